// Endpoint selection (seed: "Load Balancing" and "Local Optimization"):
// strategies are small functions that compose.

import type { ServiceEndpoint } from './types.js';
import { sameNodeOrder, type SameNode } from '../registry/same-node.js';

export { sameNodeOrder, type SameNode };

/** Picks one endpoint, or undefined when none is suitable. */
export type Strategy = (endpoints: readonly ServiceEndpoint[]) => ServiceEndpoint | undefined;

/** Each call takes the next endpoint in turn (state lives in the returned strategy). */
export function roundRobin(): Strategy {
  let next = 0;
  return (eps) => (eps.length === 0 ? undefined : eps[next++ % eps.length]);
}

export function random(rand: () => number = Math.random): Strategy {
  return (eps) => (eps.length === 0 ? undefined : eps[Math.floor(rand() * eps.length)]);
}

/** Only healthy endpoints reach `inner`. */
export function healthyOnly(inner: Strategy = roundRobin()): Strategy {
  return (eps) => inner(eps.filter((e) => e.healthy));
}

/**
 * Endpoints on `nodeName` first (no hop between nodes); other nodes when
 * `inner` finds no local one it accepts: the DNS answers' `same_node first`.
 * `only: true` is `same_node only`: while the list has a local endpoint that
 * `inner` accepts, the others are never picked (so `attemptOrder` tries the
 * local ones alone). Containers on this node are reached on their bridge
 * address, so the address is kept rather than rewritten to localhost.
 */
export function preferLocal(nodeName: string, inner: Strategy = roundRobin(), opts: { only?: boolean } = {}): Strategy {
  const strategy: Strategy = (eps) => {
    const local = eps.filter((e) => e.nodeName === nodeName);
    return (local.length > 0 ? inner(local) : undefined) ?? inner(eps);
  };
  if (opts.only) localOnly.set(strategy, nodeName);
  return strategy;
}

/** Strategies made by `preferLocal(…, { only: true })`, with their node. */
const localOnly = new WeakMap<Strategy, string>();

/** The default (stateless): a random healthy endpoint. Keep a `roundRobin()` strategy to rotate. */
export function pickEndpoint(endpoints: readonly ServiceEndpoint[], strategy: Strategy = healthyOnly(random())): ServiceEndpoint | undefined {
  return strategy(endpoints);
}

/** Every endpoint the strategy may use, the picked one first: the order `connect` tries them in. */
export function attemptOrder(endpoints: readonly ServiceEndpoint[], strategy: Strategy): ServiceEndpoint[] {
  const order: ServiceEndpoint[] = [];
  const onlyNode = localOnly.get(strategy);
  let rest = [...endpoints];
  for (let e = strategy(rest); e !== undefined && rest.includes(e); e = strategy(rest)) {
    order.push(e);
    // `only`: once a local endpoint is picked first, the other nodes' are out of the running.
    if (onlyNode !== undefined && order.length === 1 && e.nodeName === onlyNode) rest = rest.filter((x) => x.nodeName === onlyNode);
    rest = rest.filter((x) => x !== e);
  }
  return order;
}
