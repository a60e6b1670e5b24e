// Serf's own messages (the memberlist user messages that are not ours), handled
// as a serf agent's delegate NotifyMsg does, so that Serf's dissemination
// does not stop at podswarm-dns nodes.
import type { GossipCore } from './core.js';
import { SerfMessageType } from './serf.js';
import { handleIntent } from './serf-intents.js';
import { handleQuery, handleRelay } from './serf-query.js';

/** `msg` starts with its serf message type. */
export function handleSerfMessage(core: GossipCore, msg: Buffer): void {
  switch (msg[0]) {
    case SerfMessageType.join:
    case SerfMessageType.leave:
      return handleIntent(core, msg);
    case SerfMessageType.query:
      return handleQuery(core, msg);
    case SerfMessageType.relay:
      return handleRelay(core, msg);
    default:
    // user events, query responses (we ask no queries): nothing for this node to do
  }
}
