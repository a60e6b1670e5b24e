// `ready [ADDRESS] { monitor until-ready|continuously }`: GET /ready → 200 OK
// once every plugin that reports readiness is ready, else 503 and their
// names (default :8181).

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, onlyDirective, pluginError, subdirectives, unknownSubdirective } from '../../src/corefile/args.js';
import { parseHttpAddress, servePath, type HttpAddress } from '../../src/server/http.js';
import { Readiness } from './readiness.js';

const DEFAULT_ADDRESS: HttpAddress = { host: '', port: 8181 };

export const plugin: PluginDef = {
  name: 'ready',
  scope: 'control',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    const [addr] = argCount(d, 0, 1);
    const address = addr ? parseHttpAddress(addr, 'ready') : DEFAULT_ADDRESS;
    let continuously = false;
    for (const sub of subdirectives(d)) {
      if (sub.name.text !== 'monitor') throw unknownSubdirective(d, sub);
      const mode = argCount(sub, 1)[0]!;
      if (mode.text !== 'until-ready' && mode.text !== 'continuously') {
        throw pluginError('ready', mode, `monitor must be until-ready or continuously, got '${mode.text}'`);
      }
      continuously = mode.text === 'continuously';
    }
    const readiness = new Readiness(c.app.readiness, continuously, c.app.degradations);
    let release: (() => Promise<void>) | undefined;
    c.onStartup(async () => {
      release = await servePath(c.app, address, '/ready', (_req, res) => {
        const notReady = readiness.notReady();
        const headers = { 'content-type': 'text/plain; charset=utf-8' };
        const degraded = notReady.length === 0 ? readiness.degraded() : [];
        if (degraded.length > 0) res.writeHead(200, headers).end(`OK\ndegraded: ${degraded.join('\ndegraded: ')}`);
        else if (notReady.length === 0) res.writeHead(200, headers).end('OK');
        else res.writeHead(503, headers).end(notReady.join(','));
      });
    });
    c.onShutdown(async () => {
      await release?.();
    });
  },
};
