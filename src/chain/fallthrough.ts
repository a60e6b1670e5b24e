// `fallthrough [ZONES...]` (CoreDNS plugin/pkg/fall): where a plugin that
// would answer NXDOMAIN hands the query on instead.

import { zoneArgs } from '../corefile/args.js';
import type { Directive } from '../corefile/types.js';
import { matchZone } from './plugin.js';

/** Zones from the sub-directive's arguments; none given means every zone. */
export function parseFallthrough(d: Directive): string[] {
  return d.args.length === 0 ? ['.'] : zoneArgs(d);
}

/** True when `qname` lies in one of the fallthrough zones (none configured: never). */
export function fallsThrough(zones: readonly string[] | null, qname: string): boolean {
  return zones !== null && matchZone(qname, zones) !== undefined;
}
