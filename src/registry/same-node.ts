// Same node first: a node's own endpoints of a service are one bridge away
// from the client asking it (every client asks its own node), the others a
// hop between hosts. Off by default; `first` lists the local ones first (A/AAAA
// order, SRV priority 0 against 1 for the rest), `only` answers with the local
// ones alone whenever the service has any.

import type { Endpoint } from './types.js';

/** What the order needs of an endpoint: the registry's and the client library's both have it. */
type OnNode = Pick<Endpoint, 'nodeName'>;

export type SameNode = 'off' | 'first' | 'only';

export const SAME_NODE_MODES: readonly SameNode[] = ['off', 'first', 'only'];

/**
 * `eps` in answer order for a client of `nodeName` (a stable partition: the
 * given order within each part). The DNS answers and the client library
 * (`sameNodeOrder` in src/client) follow this one rule.
 */
export function sameNodeOrder<E extends OnNode>(eps: readonly E[], nodeName: string, mode: SameNode): readonly E[] {
  if (mode === 'off') return eps;
  const local = eps.filter((e) => e.nodeName === nodeName);
  if (local.length === 0 || local.length === eps.length) return eps;
  return mode === 'only' ? local : [...local, ...eps.filter((e) => e.nodeName !== nodeName)];
}

/** SRV priority of an endpoint: lower is tried first (RFC 2782). */
export function sameNodePriority(e: OnNode, nodeName: string, mode: SameNode): number {
  return mode === 'first' && e.nodeName !== nodeName ? 1 : 0;
}
