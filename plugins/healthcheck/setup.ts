// `healthcheck { interval DUR; threshold DUR; timeout DUR }`: this node checks
// the endpoints it owns that declare a `health_check` (see README.md). No DNS
// handler. One checker per process, kept across reloads (new settings apply).

import { Counter } from 'prom-client';
import { KeptAcrossReload, type Share } from '../../src/chain/kept-across-reload.js';
import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, onlyDirective, parseDuration, pluginError, subdirectives, unknownSubdirective } from '../../src/corefile/args.js';
import { type CheckSettings, HealthChecker, SEED_SETTINGS } from '../../src/healthcheck/checker.js';

const checkers = new KeptAcrossReload<HealthChecker>({ name: 'health checker', dispose: (checker) => checker.stop() });

export const plugin: PluginDef = {
  name: 'healthcheck',
  scope: 'control',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    argCount(d, 0);
    const settings: CheckSettings = { ...SEED_SETTINGS };
    for (const sub of subdirectives(d)) {
      const key = ({ interval: 'intervalMs', threshold: 'thresholdMs', timeout: 'timeoutMs' } as const)[sub.name.text];
      if (!key) throw unknownSubdirective(d, sub);
      const tok = argCount(sub, 1)[0]!;
      settings[key] = parseDuration(tok, `healthcheck: ${sub.name.text}`);
      if (key !== 'thresholdMs' && settings[key] === 0) throw pluginError('healthcheck', tok, `${sub.name.text} must be more than 0`);
    }
    const app = c.app;
    const checks = app.metric(
      'podswarm_health_checks_total',
      (registers) =>
        new Counter({ name: 'podswarm_health_checks_total', help: 'Endpoint health checks run by this node, by result.', labelNames: ['result'], registers }),
    );
    let mine: Share<HealthChecker> | undefined;
    c.onStartup(async () => {
      mine = await checkers.use(app, '', () => {
        const checker = new HealthChecker(app.registry, settings, app.pluginLog('healthcheck'), (ok) => checks.inc({ result: ok ? 'success' : 'failure' }));
        checker.start();
        return checker;
      });
      mine.value.settings = settings;
    });
    // The new config may have set its settings before it was refused: this config's apply again.
    c.onRestartFailed(() => {
      if (mine) mine.value.settings = settings;
    });
    c.onShutdown(() => mine?.release());
  },
};
