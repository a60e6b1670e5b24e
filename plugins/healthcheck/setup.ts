// `healthcheck { interval DUR; threshold DUR; timeout DUR }`: this node checks
// the endpoints it owns that declare a `health_check` (see README.md). No DNS
// handler. One checker per process, kept across reloads (new settings apply).

import { Counter } from 'prom-client';
import type { App } from '../../src/app.js';
import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, onlyDirective, parseDuration, pluginError, subdirectives, unknownSubdirective } from '../../src/corefile/args.js';
import { type CheckSettings, HealthChecker, SEED_SETTINGS } from '../../src/healthcheck/checker.js';

interface Running {
  checker: HealthChecker;
  /** Configs using it: during a reload both the old and the new one. */
  users: number;
}

const running = new WeakMap<App, Running>();

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
      (registers) => new Counter({ name: 'podswarm_health_checks_total', help: 'Endpoint health checks run by this node, by result.', labelNames: ['result'], registers }),
    );
    let mine: Running | undefined;
    c.onStartup(() => {
      mine = running.get(app);
      if (mine) mine.checker.settings = settings;
      else {
        const checker = new HealthChecker(app.registry, settings, app.pluginLog('healthcheck'), (ok) => checks.inc({ result: ok ? 'success' : 'failure' }));
        mine = { checker, users: 0 };
        running.set(app, mine);
        checker.start();
      }
      mine.users++;
    });
    c.onShutdown(() => {
      if (!mine || --mine.users > 0) return;
      mine.checker.stop();
      running.delete(app);
    });
  },
};
