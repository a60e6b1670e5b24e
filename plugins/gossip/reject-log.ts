// What validation refused from other nodes, for the operator: every entry is
// counted in the metric, and each sending host gets one WARNING line, then
// none for an interval. A broken or hostile peer sends the same bad entries
// in every push/pull and rebroadcast, so a line per packet would flood the log.

import type { Counter } from 'prom-client';
import type { Logger } from '../../src/log.js';
import type { Rejection } from '../../src/replication/validate.js';
import { splitHostPort } from '../../src/util/hostport.js';

const QUIET_MS = 10 * 60 * 1000;
/** Senders remembered at most; past this the oldest are forgotten (and may log again). */
const MAX_SENDERS = 1024;
/** Rejections described in the one line; the rest are counted. */
const SHOWN = 3;

export function reportRejections(log: Logger, counter: Counter<'reason'>, quietMs = QUIET_MS): (rejected: Rejection[], from: string) => void {
  const lastLogged = new Map<string, number>();
  return (rejected, from) => {
    for (const r of rejected) counter.inc({ reason: r.reason });
    // A push/pull comes from an ephemeral TCP port: the host is the sender.
    const host = hostOf(from);
    const now = Date.now();
    const last = lastLogged.get(host);
    if (last !== undefined && now - last < quietMs) return;
    lastLogged.delete(host);
    lastLogged.set(host, now);
    if (lastLogged.size > MAX_SENDERS) lastLogged.delete(lastLogged.keys().next().value!);
    const shown = rejected.slice(0, SHOWN).map(describe).join('; ');
    const more = rejected.length > SHOWN ? ` and ${rejected.length - SHOWN} more` : '';
    log.warn(
      { from, rejected: rejected.length },
      `dropped ${rejected.length} invalid replicated ${rejected.length === 1 ? 'entry' : 'entries'} from ${from}: ${shown}${more}` +
        ` (further ones from ${host} are counted in podswarm_gossip_rejected_entries_total, not logged, for ${quietMs / 60_000}m)`,
    );
  };
}

function describe(r: Rejection): string {
  const where = [r.owner && `owner ${r.owner}`, r.key && `key ${r.key}`].filter(Boolean).join(' ');
  return `${r.reason}${where ? ` (${where})` : ''}: ${r.detail}`;
}

function hostOf(from: string): string {
  try {
    return splitHostPort(from, 0).host;
  } catch {
    return from;
  }
}
