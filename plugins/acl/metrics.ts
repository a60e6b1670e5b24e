// coredns_acl_{blocked,filtered,allowed,dropped}_requests_total, as CoreDNS names them.

import { Counter } from 'prom-client';
import type { App } from '../../src/app.js';
import type { Action } from './policy.js';

const PAST: Record<Action, string> = { allow: 'allowed', block: 'blocked', filter: 'filtered', drop: 'dropped' };

export class AclMetrics {
  private readonly counters: Record<Action, Counter<string>>;

  constructor(app: App) {
    const make = (action: Action): Counter<string> => {
      const name = `coredns_acl_${PAST[action]}_requests_total`;
      return app.metric(
        name,
        (registers) =>
          new Counter({
            name,
            help: `Counter of DNS requests being ${PAST[action]}.`,
            // CoreDNS leaves the zone off the allowed counter.
            labelNames: action === 'allow' ? ['server', 'view'] : ['server', 'zone', 'view'],
            registers,
          }),
      );
    };
    this.counters = { allow: make('allow'), block: make('block'), filter: make('filter'), drop: make('drop') };
  }

  count(action: Action, server: string, zone: string): void {
    const c = this.counters[action];
    if (action === 'allow') c.labels(server, '').inc();
    else c.labels(server, zone, '').inc();
  }
}
