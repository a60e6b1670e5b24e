// The periodic loops (memberlist state.go): probing one node per interval with
// indirect and TCP fallbacks, gossiping queued broadcasts, and push/pull with a
// random live node.
import { ipFromWire } from './address.js';
import { type GossipCore, sleep } from './core.js';
import { labelOverhead } from './label.js';
import { suspectNode } from './membership.js';
import { MessageType, NodeStateType, type Ping, decodeAck, encodeIndirectPing, encodePing, encodeSuspect, makeCompound, makeCompounds } from './messages.js';
import { pushPullNode } from './pushpull.js';
import { encryptOverhead } from './security.js';
import { COMPOUND_HEADER_OVERHEAD, COMPOUND_OVERHEAD, exchange, rawSendPacket, send, sendMsg } from './send.js';
import { type Member, kRandomMembers, pushPullScale, shuffle } from './state.js';
import { printable } from './quote.js';

export function schedule(core: GossipCore): void {
  const c = core.config;
  const stagger = (ms: number) => Math.floor(Math.random() * ms);
  if (c.probeIntervalMs > 0) core.later(stagger(c.probeIntervalMs), () => void probeLoop(core));
  if (c.gossipIntervalMs > 0 && c.gossipNodes > 0) {
    const tick = () => {
      gossip(core);
      core.later(c.gossipIntervalMs, tick);
    };
    core.later(stagger(c.gossipIntervalMs), tick);
  }
  if (c.pushPullIntervalMs > 0) {
    const tick = () => {
      pushPull(core);
      core.later(pushPullScale(c.pushPullIntervalMs, core.nodes.length), tick);
    };
    core.later(stagger(c.pushPullIntervalMs), tick);
  }
}

async function probeLoop(core: GossipCore): Promise<void> {
  const started = Date.now();
  try {
    await probe(core);
  } catch (err) {
    core.log.error(`memberlist: probe failed: ${(err as Error).message}`);
  }
  // a ticker: the next probe starts on the next interval boundary
  const spent = Date.now() - started;
  const interval = core.config.probeIntervalMs;
  core.later(interval - (spent % interval), () => void probeLoop(core));
}

async function probe(core: GossipCore): Promise<void> {
  for (let checked = 0; checked < core.nodes.length;) {
    if (core.probeIndex >= core.nodes.length) {
      resetNodes(core);
      core.probeIndex = 0;
      checked++;
      continue;
    }
    const node = core.nodes[core.probeIndex++]!;
    if (node.name === core.config.name || node.state === NodeStateType.dead || node.state === NodeStateType.left || !core.canReach(node)) {
      checked++;
      continue;
    }
    await probeNode(core, node);
    return;
  }
}

/** Drops dead/left nodes older than GossipToTheDeadTime and reshuffles. */
function resetNodes(core: GossipCore): void {
  const now = Date.now();
  core.nodes = core.nodes.filter((n) => {
    const gone = (n.state === NodeStateType.dead || n.state === NodeStateType.left) && now - n.stateChange > core.config.gossipToTheDeadTimeMs;
    if (gone) core.byName.delete(n.name);
    return !gone;
  });
  shuffle(core.nodes);
}

async function probeNode(core: GossipCore, node: Member): Promise<void> {
  const c = core.config;
  const probeInterval = core.awareness.scaleTimeout(c.probeIntervalMs);
  const ping = core.selfPing(node.name);
  const host = ipFromWire(node.addr);
  const deadline = Date.now() + probeInterval;
  let nacks = 0;
  let resolveAck!: (acked: boolean) => void;
  const acked = new Promise<boolean>((r) => (resolveAck = r));
  core.setAckHandler(
    ping.seqNo,
    () => resolveAck(true),
    () => nacks++,
    probeInterval,
    () => resolveAck(false),
  );
  let delta = 0;
  try {
    if (node.state === NodeStateType.alive) await sendMsg(core, host, node.port, encodePing(ping));
    else {
      const sus = encodeSuspect({ incarnation: node.incarnation, node: node.name, from: c.name });
      await rawSendPacket(core, host, node.port, makeCompound([encodePing(ping), sus]));
    }
    delta = -1;
    const direct = await Promise.race([acked, sleep(c.probeTimeoutMs).then(() => null)]);
    if (direct === true) return;
    core.log.debug(`memberlist: failed UDP ping: ${printable(node.name)} (timeout reached)`);
  } catch (err) {
    core.log.error(`memberlist: failed to send UDP ping: ${(err as Error).message}`);
  }

  const peers = kRandomMembers(
    c.indirectChecks,
    core.nodes,
    (n) => n.name !== c.name && n.name !== node.name && n.state === NodeStateType.alive && core.canReach(n),
  );
  let expectedNacks = 0;
  for (const peer of peers) {
    const nack = peer.vsn[1] >= 4;
    if (nack) expectedNacks++;
    const ind = encodeIndirectPing({ ...ping, target: node.addr, port: node.port, nack });
    send(core, ipFromWire(peer.addr), peer.port, ind, 'indirect ping');
  }
  const fallback = !c.disableTcpPings && node.vsn[1] >= 3 ? tcpPing(core, host, node.port, ping, deadline) : Promise.resolve(false);

  if (await acked) {
    core.awareness.applyDelta(delta);
    return;
  }
  if (await fallback) {
    core.log.warn(`memberlist: was able to connect to ${printable(node.name)} over TCP but UDP probes failed, network may be misconfigured`);
    core.awareness.applyDelta(delta);
    return;
  }
  core.awareness.applyDelta(expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1);
  if (!core.running) return;
  core.log.info(`memberlist: suspect ${printable(node.name)} has failed, no acks received`);
  suspectNode(core, { incarnation: node.incarnation, node: node.name, from: c.name });
}

async function tcpPing(core: GossipCore, host: string, port: number, ping: Ping, deadline: number): Promise<boolean> {
  try {
    const reply = await exchange(core, host, port, encodePing(ping), Math.max(1, deadline - Date.now()));
    if (reply.type !== MessageType.ackResp) throw new Error(`unexpected msgType (${reply.type}) from ping`);
    const ack = decodeAck(reply.body);
    if (ack.seqNo !== ping.seqNo) throw new Error(`sequence number from ack (${ack.seqNo}) doesn't match ping (${ping.seqNo})`);
    return true;
  } catch (err) {
    core.log.debug(`memberlist: failed fallback TCP ping: ${(err as Error).message}`);
    return false;
  }
}

function gossip(core: GossipCore): void {
  const c = core.config;
  const now = Date.now();
  const targets = kRandomMembers(c.gossipNodes, core.nodes, (n) => {
    if (n.name === c.name || !core.canReach(n)) return false;
    if (n.state === NodeStateType.alive || n.state === NodeStateType.suspect) return true;
    return n.state === NodeStateType.dead && now - n.stateChange <= c.gossipToTheDeadTimeMs;
  });
  let avail = c.udpBufferSize - COMPOUND_HEADER_OVERHEAD - labelOverhead(c.label);
  if (c.keyring) avail -= encryptOverhead(core.security().encryptionVersion);
  for (const node of targets) {
    const msgs = core.broadcasts.getBroadcasts(COMPOUND_OVERHEAD, avail);
    if (msgs.length === 0) return;
    const host = ipFromWire(node.addr);
    for (const pkt of msgs.length === 1 ? msgs : makeCompounds(msgs)) {
      rawSendPacket(core, host, node.port, pkt).catch((err: Error) =>
        core.log.error(`memberlist: failed to send gossip to ${printable(node.name)}: ${err.message}`),
      );
    }
  }
}

function pushPull(core: GossipCore): void {
  const [node] = kRandomMembers(1, core.nodes, (n) => n.name !== core.config.name && n.state === NodeStateType.alive && core.canReach(n));
  if (!node) return;
  pushPullNode(core, ipFromWire(node.addr), node.port, false).catch((err: Error) =>
    core.log.error(`memberlist: push/pull with ${printable(node.name)} failed: ${err.message}`),
  );
}
