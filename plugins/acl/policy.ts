// acl rules: for each rule whose zones cover the query, the first policy
// matching the query type and the source address decides the action.

import { matchZone } from '../../src/chain/plugin.js';
import type { NetSet } from './net.js';

export type Action = 'allow' | 'block' | 'filter' | 'drop';

export interface Policy {
  action: Action;
  /** null: every type (`type *` or no `type` section). */
  qtypes: ReadonlySet<number> | null;
  /** null: every source (`net *` or no `net` section). */
  nets: NetSet | null;
}

export interface Rule {
  zones: string[];
  policies: Policy[];
}

/** The action and the zone of the rule that decided it; allow when no policy matches. */
export function decide(rules: readonly Rule[], qname: string, qtype: number, source: string): { action: Action; zone: string } {
  for (const rule of rules) {
    const zone = matchZone(qname, rule.zones);
    if (zone === undefined) continue;
    for (const p of rule.policies) {
      if (p.qtypes !== null && !p.qtypes.has(qtype)) continue;
      if (p.nets !== null && !p.nets.has(source)) continue;
      // `allow` ends the evaluation of every rule, as in CoreDNS.
      return { action: p.action, zone };
    }
  }
  return { action: 'allow', zone: '' };
}
