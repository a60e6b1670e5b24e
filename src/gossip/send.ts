// Outgoing packets (with piggybacked broadcasts) and one-shot stream exchanges
// (memberlist net.go: sendMsg, rawSendMsgPacket, sendAndReceiveState).
import { joinHostPort } from '../util/hostport.js';
import { ipFromWire } from './address.js';
import type { GossipCore } from './core.js';
import { labelHeader, labelOverhead } from './label.js';
import { MessageType, decodeErr, makeCompound } from './messages.js';
import { type StreamMessage, StreamMessageParser, encodePacket, encodeStreamMessage } from './net.js';
import { encryptOverhead } from './security.js';
import type { Member } from './state.js';
import { StreamReader } from './transport.js';
import { quote } from './quote.js';

export const COMPOUND_HEADER_OVERHEAD = 2;
export const COMPOUND_OVERHEAD = 2;

function memberAt(core: GossipCore, host: string, port: number): Member | undefined {
  return core.nodes.find((n) => n.port === port && ipFromWire(n.addr) === host);
}

/** Sends one message, piggybacking queued broadcasts in a compound. */
export async function sendMsg(core: GossipCore, host: string, port: number, msg: Buffer): Promise<void> {
  let avail = core.config.udpBufferSize - msg.length - COMPOUND_HEADER_OVERHEAD - labelOverhead(core.config.label);
  if (core.config.keyring && core.config.gossipVerifyOutgoing) avail -= encryptOverhead(core.security().encryptionVersion);
  const extra = core.broadcasts.getBroadcasts(COMPOUND_OVERHEAD, avail);
  await rawSendPacket(core, host, port, extra.length === 0 ? msg : makeCompound([msg, ...extra]));
}

export async function rawSendPacket(core: GossipCore, host: string, port: number, msg: Buffer): Promise<void> {
  const target = memberAt(core, host, port);
  let out = encodePacket(msg, { ...core.security(), compress: core.config.enableCompression, crc: (target?.vsn[1] ?? 0) >= 5 });
  if (core.config.label) out = Buffer.concat([labelHeader(core.config.label), out]);
  await core.transport.sendPacket(out, host, port);
}

export function send(core: GossipCore, host: string, port: number, msg: Buffer, what: string): void {
  sendMsg(core, host, port, msg).catch((err: Error) => core.log.error(`memberlist: failed to send ${what} to ${joinHostPort(host, port)}: ${err.message}`));
}

/** Dials, sends one message and reads one reply. */
export async function exchange(core: GossipCore, host: string, port: number, msg: Buffer, timeoutMs: number): Promise<StreamMessage> {
  const socket = await core.transport.dial(host, port, timeoutMs);
  const reader = new StreamReader(socket, timeoutMs);
  try {
    const out = encodeStreamMessage(msg, core.streamOpts());
    socket.write(core.config.label ? Buffer.concat([labelHeader(core.config.label), out]) : out);
    const parser = new StreamMessageParser(core.security());
    const reply = await reader.read((b) => parser.feed(b));
    if (reply.type === MessageType.err) throw new Error(`remote error: ${quote(decodeErr(reply.body).error)}`);
    return reply;
  } finally {
    reader.done();
    socket.destroy();
  }
}
