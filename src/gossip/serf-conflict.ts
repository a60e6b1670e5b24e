// Serf's name conflict query (serf internal_query.go handleConflict): a serf
// agent that sees another node claim its name asks the cluster
// `_serf_conflict` with that name as the payload, and shuts itself down
// unless most answers give its own address. This node answers with its view
// of the member, as a serf agent does, so podswarm-dns nodes count in that
// vote.
import { quote } from './quote.js';
import { encodeConflictResponse } from './serf.js';
import type { SerfDelegate } from './serf-delegate.js';

export const CONFLICT_QUERY = '_serf_conflict';

/**
 * The response payload: our view of the member the query names (nil when we
 * know none), or null for a query about us, which serf does not answer.
 */
export function answerConflictQuery(serf: SerfDelegate, payload: Buffer): Buffer | null {
  const { core } = serf;
  const node = payload.toString('utf8');
  if (node === core.config.name) return null;
  core.log.debug(`serf: Got conflict resolution query for ${quote(node)}`);
  const m = core.byName.get(node);
  if (!m) return encodeConflictResponse(null);
  return encodeConflictResponse({ name: m.name, addr: m.addr, port: m.port, tags: serf.tagsOf(m.meta), status: serf.intents.status(m), vsn: m.vsn });
}
