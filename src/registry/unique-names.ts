// Endpoint names unique within a service, whoever registered them. Two nodes
// may register the same name for one service (each node checks only its own
// sources); left alone, SRV would list two records with one target name and
// glue for one address, so the second endpoint could never be reached. The
// rule depends only on the set of endpoints, never on arrival order, so every
// node (and every DNS worker) computes the same names: in each clash the
// endpoint with the smallest (node, address) keeps the plain name, the others
// become `<name>-<node>` (or `<name>-<dashed address>` when that is taken too).

import { createHash } from 'node:crypto';
import { dashedAddress, dnsSafe } from './names.js';
import type { Endpoint } from './types.js';

const MAX_LABEL = 63;

/**
 * `eps` with every clashing endpoint but one replaced by a renamed copy (same
 * order); `renamed` maps each copy to the endpoint it was made from. Without a
 * clash, `eps` itself comes back.
 */
export function uniqueNames(eps: Endpoint[]): { endpoints: Endpoint[]; renamed: Map<Endpoint, Endpoint> } {
  const byName = new Map<string, Endpoint[]>();
  for (const e of eps) {
    const group = byName.get(e.name);
    if (group) group.push(e);
    else byName.set(e.name, [e]);
  }
  const renamed = new Map<Endpoint, Endpoint>();
  if (byName.size === eps.length) return { endpoints: eps, renamed };
  const taken = new Set(byName.keys());
  const replace = new Map<Endpoint, Endpoint>();
  for (const name of [...byName.keys()].sort()) {
    const group = byName.get(name)!;
    if (group.length < 2) continue;
    const [, ...others] = [...group].sort(byOwner);
    for (const e of others) {
      const fresh = [qualify(name, nodeLabel(e.nodeName)), qualify(name, dashedAddress(e.address))].find((n) => !taken.has(n));
      // Same node, same address, same name twice (two sources of one node):
      // both names resolve to that one address, so the plain name is right.
      if (fresh === undefined) continue;
      taken.add(fresh);
      const copy = { ...e, name: fresh };
      replace.set(e, copy);
      renamed.set(copy, e);
    }
  }
  return { endpoints: eps.map((e) => replace.get(e) ?? e), renamed };
}

function byOwner(a: Endpoint, b: Endpoint): number {
  return cmp(a.nodeName, b.nodeName) || cmp(a.address, b.address);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A node name as a DNS label: `Node_1.example` → `node-1-example`. */
export function nodeLabel(node: string): string {
  const l = dnsSafe(node);
  return l === '' ? hash(node) : l;
}

/** `<name>-<suffix>`, cut to one label with a hash of the suffix when too long. */
export function qualify(name: string, suffix: string): string {
  const full = `${name}-${suffix}`;
  if (full.length <= MAX_LABEL) return full;
  const h = hash(suffix);
  return `${name.slice(0, MAX_LABEL - h.length - 1)}-${h}`;
}

function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}
