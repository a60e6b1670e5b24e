// Endpoint selection (seed: "Load Balancing" and "Local Optimization"):
// strategies are small functions that compose.

import type { ServiceEndpoint } from './types.js';

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
 * `inner` finds no local one it accepts. Containers on this node are reached
 * on their bridge address, so the address is kept rather than rewritten to localhost.
 */
export function preferLocal(nodeName: string, inner: Strategy = roundRobin()): Strategy {
  return (eps) => {
    const local = eps.filter((e) => e.nodeName === nodeName);
    return (local.length > 0 ? inner(local) : undefined) ?? inner(eps);
  };
}

/** The default (stateless): a random healthy endpoint. Keep a `roundRobin()` strategy to rotate. */
export function pickEndpoint(endpoints: readonly ServiceEndpoint[], strategy: Strategy = healthyOnly(random())): ServiceEndpoint | undefined {
  return strategy(endpoints);
}

/** Every endpoint the strategy may use, the picked one first: the order `connect` tries them in. */
export function attemptOrder(endpoints: readonly ServiceEndpoint[], strategy: Strategy): ServiceEndpoint[] {
  const order: ServiceEndpoint[] = [];
  let rest = [...endpoints];
  for (let e = strategy(rest); e !== undefined && rest.includes(e); e = strategy(rest)) {
    order.push(e);
    rest = rest.filter((x) => x !== e);
  }
  return order;
}
