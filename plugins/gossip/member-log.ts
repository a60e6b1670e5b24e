// The operator's log of cluster membership, from the memberlist's member
// events: one INFO line when a member joins, leaves, fails or comes back.
// This node itself is left out (its own start is the "gossiping on" line).

import type { Logger } from '../../src/log.js';
import type { GossipEvents, Memberlist, NodeInfo } from '../../src/gossip/memberlist.js';
import { joinHostPort } from '../../src/util/hostport.js';
import { printable } from '../../src/gossip/quote.js';

/** Logs member events of `ml` until the returned function is called. */
export function logMembers(ml: Memberlist, log: Logger): () => void {
  // Members seen failed or gone: their next join is a rejoin. Kept past
  // memberlist's reaping of dead members, which would forget them.
  const gone = new Set<string>();
  const say = (n: NodeInfo, what: string): void => {
    if (n.name === ml.config.name) return;
    log.info({ member: n.name, address: joinHostPort(n.addr, n.port) }, `member ${printable(n.name)} ${what} (${joinHostPort(n.addr, n.port)})`);
  };
  const handlers: { [E in keyof GossipEvents]?: (n: NodeInfo) => void } = {
    join: (n) => {
      say(n, gone.delete(n.name) ? 'rejoined' : 'joined');
    },
    leave: (n) => {
      gone.add(n.name);
      say(n, 'left');
    },
    dead: (n) => {
      gone.add(n.name);
      say(n, 'failed');
    },
    // a suspected member that answered again: it never left the cluster
    alive: (n) => {
      if (n.name !== ml.config.name) log.debug(`member ${printable(n.name)} refuted a suspicion (${joinHostPort(n.addr, n.port)})`);
    },
  };
  for (const [event, fn] of Object.entries(handlers)) ml.on(event as 'join', fn);
  return () => {
    for (const [event, fn] of Object.entries(handlers)) ml.off(event as 'join', fn);
  };
}
