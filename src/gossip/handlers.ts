// Incoming packets and streams (memberlist net.go): decode, then dispatch
// pings, indirect pings, acks/nacks, alive/suspect/dead and user messages.
import type net from 'node:net';
import { joinHostPort } from '../util/hostport.js';
import { plainAddress } from '../dns/address.js';
import { ipFromWire } from './address.js';
import type { GossipCore } from './core.js';
import { aliveNode, deadNode, suspectNode } from './membership.js';
import {
  MessageType,
  type Ping,
  decodeAck,
  decodeAlive,
  decodeDead,
  decodeIndirectPing,
  decodeNack,
  decodePing,
  decodePushPull,
  decodeStreamUserMsg,
  decodeSuspect,
  encodeAck,
  encodeErr,
  encodeNack,
  encodePing,
} from './messages.js';
import { type StreamMessage, StreamMessageParser, decodePacket, encodeStreamMessage, flattenMessage } from './net.js';
import { localState, mergeRemoteState } from './pushpull.js';
import { send } from './send.js';
import { type Packet, StreamReader } from './transport.js';
import { quote } from './quote.js';

const MAX_PUSH_PULL_REQUESTS = 128;

export function ingestPacket(core: GossipCore, p: Packet): void {
  if (!core.running) return;
  const from = joinHostPort(p.from.address, p.from.port);
  let msg: Buffer;
  try {
    msg = decodePacket(p.buf, core.security());
  } catch (err) {
    core.log.error(`memberlist: ${(err as Error).message} from=${from}`);
    return;
  }
  for (const leaf of flattenMessage(msg, (err) => core.log.error(`memberlist: ${err.message} from=${from}`))) {
    try {
      handleCommand(core, leaf.type, leaf.body, p.from.address, p.from.port);
    } catch (err) {
      core.log.error(`memberlist: failed to handle message type ${leaf.type}: ${(err as Error).message} from=${from}`);
    }
  }
}

function handleCommand(core: GossipCore, type: number, body: Buffer, host: string, port: number): void {
  switch (type) {
    case MessageType.ping:
      return handlePing(core, decodePing(body), host, port);
    case MessageType.indirectPing:
      return handleIndirectPing(core, body, host, port);
    case MessageType.ackResp: {
      const ack = decodeAck(body);
      const h = core.ackHandlers.get(ack.seqNo);
      if (!h) return;
      core.ackHandlers.delete(ack.seqNo);
      clearTimeout(h.timer);
      return h.ack(ack.payload);
    }
    case MessageType.nackResp:
      return core.ackHandlers.get(decodeNack(body).seqNo)?.nack?.();
    case MessageType.suspect:
      return suspectNode(core, decodeSuspect(body));
    case MessageType.alive:
      return aliveNode(core, decodeAlive(body), false);
    case MessageType.dead:
      return deadNode(core, decodeDead(body));
    case MessageType.user:
      return handleUser(core, body, joinHostPort(host, port));
    default:
      core.log.error(`memberlist: msg type (${type}) not supported from=${joinHostPort(host, port)}`);
  }
}

function handlePing(core: GossipCore, p: Ping, host: string, port: number): void {
  if (p.node !== '' && p.node !== core.config.name) {
    core.log.warn(`memberlist: got ping for unexpected node ${quote(p.node)} from=${joinHostPort(host, port)}`);
    return;
  }
  const to = p.sourceAddr && p.sourceAddr.length > 0 && p.sourcePort > 0 ? { host: ipFromWire(p.sourceAddr), port: p.sourcePort } : { host, port };
  send(core, to.host, to.port, encodeAck({ seqNo: p.seqNo, payload: null }), 'ack');
}

function handleIndirectPing(core: GossipCore, body: Buffer, host: string, port: number): void {
  const ind = decodeIndirectPing(body);
  const replyTo =
    ind.sourceAddr && ind.sourceAddr.length > 0 && ind.sourcePort > 0 ? { host: ipFromWire(ind.sourceAddr), port: ind.sourcePort } : { host, port };
  const ping = core.selfPing(ind.node);
  let answered = false;
  core.setAckHandler(
    ping.seqNo,
    () => {
      answered = true;
      send(core, replyTo.host, replyTo.port, encodeAck({ seqNo: ind.seqNo, payload: null }), 'forwarded ack');
    },
    undefined,
    core.config.probeTimeoutMs,
  );
  send(core, ipFromWire(ind.target), ind.port || core.config.bindPort, encodePing(ping), 'indirect ping');
  if (ind.nack) {
    core.later(core.config.probeTimeoutMs, () => {
      if (!answered) send(core, replyTo.host, replyTo.port, encodeNack({ seqNo: ind.seqNo }), 'nack');
    });
  }
}

function handleUser(core: GossipCore, body: Buffer, from: string): void {
  if (body.length > 0) core.delegate.notifyMsg(body, from);
}

export async function handleConn(core: GossipCore, socket: net.Socket): Promise<void> {
  const reader = new StreamReader(socket, core.config.tcpTimeoutMs);
  const from = joinHostPort(plainAddress(socket.remoteAddress ?? ''), socket.remotePort ?? 0);
  try {
    const label = await reader.readLabel();
    if (label !== core.config.label) {
      core.log.error(`memberlist: discarding stream with unacceptable label ${quote(label)} from=${from}`);
      return;
    }
    let msg: StreamMessage;
    try {
      const parser = new StreamMessageParser(core.security());
      msg = await reader.read((b) => parser.feed(b));
    } catch (err) {
      const e = err as Error;
      if (e.message === 'EOF') return;
      core.log.error(`memberlist: failed to receive: ${e.message} from=${from}`);
      socket.end(encodeStreamMessage(encodeErr({ error: e.message }), core.streamOpts()));
      return;
    }
    switch (msg.type) {
      case MessageType.ping: {
        const p = decodePing(msg.body);
        if (p.node !== '' && p.node !== core.config.name) {
          core.log.warn(`memberlist: got ping for unexpected node ${quote(p.node)} from=${from}`);
          return;
        }
        socket.end(encodeStreamMessage(encodeAck({ seqNo: p.seqNo, payload: null }), core.streamOpts()));
        return;
      }
      case MessageType.pushPull: {
        if (core.pushPullRequests >= MAX_PUSH_PULL_REQUESTS) {
          core.log.error('memberlist: too many pending push/pull requests');
          return;
        }
        core.pushPullRequests++;
        try {
          const remote = msg.pushPull ?? decodePushPull(msg.body);
          socket.end(encodeStreamMessage(localState(core, remote.join), core.streamOpts()));
          mergeRemoteState(core, remote.join, remote.nodes, remote.userState, from);
        } finally {
          core.pushPullRequests--;
        }
        return;
      }
      case MessageType.user:
        handleUser(core, decodeStreamUserMsg(msg.body), from);
        return;
      default:
        core.log.error(`memberlist: received invalid msgType (${msg.type}) from=${from}`);
    }
  } catch (err) {
    core.log.error(`memberlist: stream from ${from}: ${(err as Error).message}`);
  } finally {
    reader.done();
    socket.end();
  }
}
