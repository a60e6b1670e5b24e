// `health [ADDRESS] { lameduck DURATION }`: GET /health → 200 OK while the
// process runs (default :8080), a self-check once a second for the health
// metrics, and the lameduck delay SIGTERM waits before the listeners close
// (the wait itself is the lifecycle's: src/server/lifecycle.ts).

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, onlyDirective, parseDuration, subdirectives, unknownSubdirective } from '../../src/corefile/args.js';
import { parseHttpAddress, servePath, type HttpAddress } from '../../src/server/http.js';
import { SelfCheck } from './self-check.js';

const DEFAULT_ADDRESS: HttpAddress = { host: '', port: 8080 };
const PATH = '/health';

export const plugin: PluginDef = {
  name: 'health',
  scope: 'control',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    const [addr] = argCount(d, 0, 1);
    const address = addr ? parseHttpAddress(addr, 'health') : DEFAULT_ADDRESS;
    let lameduckMs = 0;
    for (const sub of subdirectives(d)) {
      if (sub.name.text !== 'lameduck') throw unknownSubdirective(d, sub);
      lameduckMs = parseDuration(argCount(sub, 1)[0]!, 'health: lameduck');
    }
    const app = c.app;
    const check = new SelfCheck(app, address, PATH);
    c.lameduck(lameduckMs);
    let release: (() => Promise<void>) | undefined;
    c.onStartup(async () => {
      release = await servePath(app, address, PATH, (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('OK');
      });
      check.start();
    });
    c.onShutdown(async () => {
      check.stop();
      await release?.();
    });
  },
};
