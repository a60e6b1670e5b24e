// `prometheus [ADDRESS]`: per-query metrics for this server block, and the
// process's metrics at http://ADDRESS/metrics (default localhost:9153).

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, onlyDirective, subdirectives, unknownSubdirective } from '../../src/corefile/args.js';
import { parseHttpAddress, servePath, type HttpAddress } from '../../src/server/http.js';
import { AggregatorRegistry } from 'prom-client';
import type { App } from '../../src/app.js';
import { MetricsHandler } from './handler.js';
import { dnsMetrics } from './metrics.js';

const DEFAULT_ADDRESS: HttpAddress = { host: 'localhost', port: 9153 };

/** This process's metrics, merged with every worker's when there are workers. */
async function scrape(app: App): Promise<string> {
  if (!app.workerMetrics) return app.metrics.metrics();
  const all = [await app.metrics.getMetricsAsJSON(), ...(await app.workerMetrics())];
  return AggregatorRegistry.aggregate(all).metrics();
}

export const plugin: PluginDef = {
  name: 'prometheus',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    const [addr] = argCount(d, 0, 1);
    for (const sub of subdirectives(d)) throw unknownSubdirective(d, sub);
    const address = addr ? parseHttpAddress(addr, 'prometheus') : DEFAULT_ADDRESS;
    const app = c.app;
    const metrics = dnsMetrics(app);
    const names = [...new Set(c.block.directives.map((x) => x.name.text))];
    let release: (() => Promise<void>) | undefined;
    let disable: (() => void) | undefined;
    c.onStartup(async () => {
      disable = metrics.enable(c.server, c.zones, names);
      // With -workers the workers count queries and the primary serves /metrics for all of them.
      if (app.options.role === 'worker') return;
      release = await servePath(app, address, '/metrics', (_req, res) => {
        scrape(app).then(
          (text) => res.writeHead(200, { 'content-type': app.metrics.contentType }).end(text),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(err as Error).message}\n`),
        );
      });
    });
    c.onShutdown(async () => {
      disable?.();
      await release?.();
    });
    c.handler((next) => new MetricsHandler(metrics, next), { tracksWriter: true });
  },
};
