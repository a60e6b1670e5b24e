// The etcd backend's state at scrape time:
// `podswarm_etcd_up` 1 while etcd answers (0: serving the last known registry),
// `podswarm_etcd_remote_entries` other nodes' entries in the view,
// `podswarm_etcd_pending_writes` this node's entries not yet written,
// `podswarm_etcd_rejected_entries_total{reason}` values from etcd that failed validation.

import { Counter, Gauge } from 'prom-client';
import type { App } from '../../src/app.js';
import type { EtcdNode } from './node.js';

export function registerEtcdGauges(app: App, current: () => EtcdNode | undefined): void {
  const gauge = (name: string, help: string, read: (n: EtcdNode) => number): void => {
    app.metric(
      name,
      (registers) =>
        new Gauge({
          name,
          help,
          registers,
          collect() {
            const n = current();
            if (n) this.set(read(n));
            else this.reset();
          },
        }),
    );
  };
  gauge('podswarm_etcd_up', 'Whether etcd answers this node (0: it serves the last known registry).', (n) => (n.degraded() === undefined ? 1 : 0));
  gauge('podswarm_etcd_remote_entries', "Other nodes' registry entries this node holds from etcd.", (n) => n.counts.remote);
  gauge('podswarm_etcd_pending_writes', "This node's registry entries not yet written to etcd.", (n) => n.counts.pending);
}

export function etcdRejectedCounter(app: App): Counter<'reason'> {
  return app.metric(
    'podswarm_etcd_rejected_entries_total',
    (registers) =>
      new Counter({
        name: 'podswarm_etcd_rejected_entries_total',
        help: 'Values read from etcd that failed validation and were dropped, by reason.',
        labelNames: ['reason'],
        registers,
      }),
  );
}
