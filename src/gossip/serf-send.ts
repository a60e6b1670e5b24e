// Serf messages sent as memberlist user messages in datagrams of their own
// (memberlist SendToAddress), to one address or at once to a few members.
import { randomInt } from 'node:crypto';
import { joinHostPort } from '../util/hostport.js';
import { ipFromWire } from './address.js';
import type { GossipCore } from './core.js';
import { MessageType, NodeStateType } from './messages.js';
import { printable } from './quote.js';
import { rawSendPacket } from './send.js';
import type { Member } from './state.js';

/** How many members a new intent or query is sent to at once, besides the gossip that carries it on. */
export const EAGER_FANOUT = 8;

export function sendSerfPacket(core: GossipCore, host: string, port: number, serfMsg: Buffer, what: string): void {
  rawSendPacket(core, host, port, Buffer.concat([Buffer.from([MessageType.user]), serfMsg])).catch((err: Error) =>
    core.log.error(`serf: failed to send ${what} to ${joinHostPort(host, port)}: ${err.message}`),
  );
}

/**
 * Sends a serf message straight away to up to `fanout` random live members
 * (never ourselves) that `want`: it then reaches them in one hop instead of
 * at the next gossip rounds, which in a small cluster with a low retransmit
 * multiplier may never pick some member. A leave intent must also arrive
 * ahead of the dead message that follows it, or serf agents show `failed`.
 */
export function sendSerfNow(core: GossipCore, serfMsg: Buffer, fanout: number, want: (m: Member) => boolean, what: string): void {
  const targets = core.nodes.filter((m) => m.name !== core.config.name && m.state === NodeStateType.alive && core.canReach(m) && want(m));
  for (let i = 0; i < fanout && targets.length > 0; i++) {
    const [m] = targets.splice(randomInt(targets.length), 1);
    sendSerfPacket(core, ipFromWire(m!.addr), m!.port, serfMsg, `${what} (${printable(m!.name)})`);
  }
}
