// `podswarm_gossip_members{state}`: members of the running node by state, read at scrape time.
// `podswarm_gossip_rejected_entries_total{reason}`: replicated entries validation refused.

import { Counter, Gauge } from 'prom-client';
import type { App } from '../../src/app.js';
import type { MemberStatus } from '../../src/gossip/memberlist.js';
import type { GossipNode } from './node.js';

const STATES: readonly MemberStatus[] = ['alive', 'suspect', 'dead', 'left'];

export function registerMembersGauge(app: App, current: () => GossipNode | undefined): void {
  app.metric(
    'podswarm_gossip_members',
    (registers) =>
      new Gauge({
        name: 'podswarm_gossip_members',
        help: 'Gossip cluster members known to this node (itself included), by state.',
        labelNames: ['state'],
        registers,
        collect() {
          const members = current()?.ml.members() ?? [];
          for (const state of STATES) this.set({ state }, members.filter((m) => m.status === state).length);
        },
      }),
  );
}

export function rejectedEntriesCounter(app: App): Counter<'reason'> {
  return app.metric(
    'podswarm_gossip_rejected_entries_total',
    (registers) =>
      new Counter({
        name: 'podswarm_gossip_rejected_entries_total',
        help: 'Replicated registry entries from other nodes that failed validation and were dropped, by reason.',
        labelNames: ['reason'],
        registers,
      }),
  );
}
