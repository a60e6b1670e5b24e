// `podswarm_gossip_members{state}`: members of the running node by state, read at scrape time.
// `podswarm_gossip_rejected_entries_total{reason}`: replicated entries validation refused.
// `podswarm_gossip_replication_sent_{messages,bytes}_total{kind}`: what replication sent to peers.

import { Counter, Gauge } from 'prom-client';
import type { App } from '../../src/app.js';
import type { MemberStatus } from '../../src/gossip/memberlist.js';
import type { SentKind } from '../../src/replication/replicator.js';
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

const KINDS: readonly SentKind[] = ['entries', 'sum', 'digest'];

/** Read at scrape time from the running node's replicator (a node started anew after a settings change starts from 0). */
export function registerReplicationCounters(app: App, current: () => GossipNode | undefined): void {
  for (const what of ['messages', 'bytes'] as const) {
    const name = `podswarm_gossip_replication_sent_${what}_total`;
    app.metric(
      name,
      (registers) =>
        new Counter({
          name,
          help: `Registry replication ${what === 'bytes' ? 'payload bytes' : 'messages'} this node sent to podswarm-dns peers, by kind (entries, anti-entropy sum, digest).`,
          labelNames: ['kind'],
          registers,
          collect() {
            const totals = current()?.sentTotals();
            this.reset();
            for (const kind of KINDS) this.inc({ kind }, totals?.[kind][what] ?? 0);
          },
        }),
    );
  }
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
