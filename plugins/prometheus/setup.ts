// `prometheus [ADDRESS]`: per-query metrics for this server block, and the
// process's metrics at http://ADDRESS/metrics (default localhost:9153).

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, unknownSubdirective, subdirectives } from '../../src/corefile/args.js';
import { CorefileError } from '../../src/corefile/types.js';
import { httpListeners, parseHttpAddress, type HttpAddress } from '../../src/server/http.js';
import { MetricsHandler } from './handler.js';
import { dnsMetrics } from './metrics.js';

const DEFAULT_ADDRESS: HttpAddress = { host: 'localhost', port: 9153 };

export const plugin: PluginDef = {
  name: 'prometheus',
  // Owns the /metrics port: with -workers only the primary runs it (see README).
  scope: 'control',
  setup(c: SetupContext): void {
    if (c.directives.length > 1) throw CorefileError.at(c.directives[1]!.name, 'prometheus: only one prometheus directive per server block');
    const d = c.directives[0]!;
    const [addr] = argCount(d, 0, 1);
    for (const sub of subdirectives(d)) throw unknownSubdirective(d, sub);
    const address = addr ? parseHttpAddress(addr, 'prometheus') : DEFAULT_ADDRESS;
    const app = c.app;
    const metrics = dnsMetrics(app);
    const names = [...new Set(c.block.directives.map((x) => x.name.text))];
    let release: (() => Promise<void>) | undefined;
    let disable: (() => void) | undefined;
    c.onStartup(async () => {
      release = await httpListeners(app).register(address, '/metrics', (_req, res) => {
        app.metrics.metrics().then(
          (text) => res.writeHead(200, { 'content-type': app.metrics.contentType }).end(text),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(err as Error).message}\n`),
        );
      });
      disable = metrics.enable(c.server, c.zones, names);
    });
    c.onShutdown(async () => {
      disable?.();
      await release?.();
    });
    c.handler((next) => new MetricsHandler(metrics, next));
  },
};
