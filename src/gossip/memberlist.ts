// A memberlist-compatible SWIM node (hashicorp/memberlist memberlist.go,
// state.go, net.go) that serf agents accept as a member with tags.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { TransmitLimitedQueue } from './broadcast.js';
import { type GossipConfig, type Logger, defaultLANConfig } from './config.js';
import { labelHeader, labelOverhead } from './label.js';
import {
  type Alive,
  type Dead,
  MessageType,
  NodeStateType,
  type Ping,
  type PushNodeState,
  type Suspect,
  decodeAck,
  decodeAlive,
  decodeDead,
  decodeErr,
  decodeIndirectPing,
  decodeNack,
  decodePing,
  decodePushPull,
  decodeStreamUserMsg,
  decodeSuspect,
  encodeAck,
  encodeAlive,
  encodeDead,
  encodeErr,
  encodeIndirectPing,
  encodeNack,
  encodePing,
  encodePushPull,
  encodeStreamUserMsg,
  encodeSuspect,
  makeCompound,
  makeCompounds,
} from './messages.js';
import {
  type StreamMessage,
  type WireSecurity,
  decodePacket,
  encodePacket,
  encodeStreamMessage,
  flattenMessage,
  parseStreamMessage,
} from './net.js';
import { encryptOverhead } from './security.js';
import {
  APP_MESSAGE_TYPE,
  LamportClock,
  decodeSerfPushPull,
  decodeTags,
  encodeJoinIntent,
  encodeLeaveIntent,
  encodeSerfPushPull,
  encodeTags,
  intentLTime,
} from './serf.js';
import {
  Awareness,
  type Member,
  Suspicion,
  addrString,
  kRandomMembers,
  parseAddr,
  pushPullScale,
  shuffle,
  suspicionTimeout,
} from './state.js';
import { type Packet, StreamReader, Transport } from './transport.js';

export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

export interface NodeInfo {
  name: string;
  addr: string;
  port: number;
  tags: Record<string, string>;
  status: MemberStatus;
  incarnation: number;
  /** memberlist protocol max; 5 means the node checks CRCs. */
  protocolMax: number;
}

export interface GossipEvents {
  /** A node became alive (first seen, or back from dead/left). */
  join: [NodeInfo];
  /** A node left gracefully (dead message sent by the node itself). */
  leave: [NodeInfo];
  /** A node was declared dead after suspicion timed out. */
  dead: [NodeInfo];
  /** A live node's tags/meta changed. */
  update: [NodeInfo];
  /** A suspected node refuted the suspicion (this includes ourselves). */
  alive: [NodeInfo];
}

/** Application hooks; all optional. */
export interface GossipDelegate {
  /** A user message from another node (broadcast or direct). `from` is the sender's address. */
  onUserMessage?(msg: Buffer, from: string): void;
  /** Our application state sent in every push/pull. */
  localState?(join: boolean): Buffer;
  /** The application state a remote node sent in a push/pull. */
  mergeRemoteState?(state: Buffer, join: boolean): void;
}

const STATUS: Record<NodeStateType, MemberStatus> = { 0: 'alive', 1: 'suspect', 2: 'dead', 3: 'left' };
const COMPOUND_HEADER_OVERHEAD = 2;
const COMPOUND_OVERHEAD = 2;
const META_MAX_SIZE = 512;
const MAX_PUSH_PULL_REQUESTS = 128;
const PMIN = 1;
const PMAX = 5;

interface AckHandler {
  ack: (payload: Buffer | null) => void;
  nack?: () => void;
  timer: NodeJS.Timeout;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Memberlist extends EventEmitter<GossipEvents> {
  readonly config: GossipConfig;
  private readonly log: Logger;
  private readonly transport: Transport;
  private readonly broadcasts: TransmitLimitedQueue;
  private readonly awareness: Awareness;
  private readonly clock = new LamportClock();
  /** LTime of our latest serf join intent: serf's status time for us. */
  private joinLTime = 0;
  private nodes: Member[] = [];
  private readonly byName = new Map<string, Member>();
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly ackHandlers = new Map<number, AckHandler>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private delegate: GossipDelegate = {};
  private seqNo = 0;
  private incarnation = 0;
  private probeIndex = 0;
  private pushPullRequests = 0;
  private left = false;
  private running = false;
  private advertise: { addr: Buffer; host: string; port: number } | null = null;

  constructor(config: Partial<GossipConfig> & { name: string }) {
    super();
    this.config = { ...defaultLANConfig(config.name), ...config };
    this.log = this.config.logger;
    this.transport = new Transport(
      (p) => this.ingestPacket(p),
      (s) => void this.handleConn(s),
    );
    this.broadcasts = new TransmitLimitedQueue(this.config.retransmitMult, () => this.nodes.length);
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier);
    if (encodeTags(this.config.tags).length > META_MAX_SIZE) throw new Error('node meta (tags) exceeds 512 bytes');
  }

  setDelegate(d: GossipDelegate): void {
    this.delegate = d;
  }

  /** Binds the sockets, adds ourselves as alive and starts probing and gossiping. */
  async start(): Promise<void> {
    if (this.running) throw new Error('already started');
    await this.transport.listen(this.config.bindAddr, this.config.bindPort);
    const host = this.config.advertiseAddr ?? this.config.bindAddr;
    if (host === '0.0.0.0') throw new Error('set advertiseAddr when binding to 0.0.0.0');
    this.advertise = { addr: parseAddr(host), host, port: this.config.advertisePort ?? this.transport.port };
    this.running = true;
    this.aliveNode(
      {
        incarnation: ++this.incarnation,
        node: this.config.name,
        addr: this.advertise.addr,
        port: this.advertise.port,
        meta: encodeTags(this.config.tags),
        vsn: this.vsn(),
      },
      true,
    );
    this.queueJoinIntent();
    this.schedule();
  }

  /** The port we listen on (useful with bindPort 0). */
  get port(): number {
    return this.advertise?.port ?? 0;
  }

  private vsn(): Buffer {
    const c = this.config;
    return Buffer.from([PMIN, PMAX, c.protocolVersion, c.delegateProtocolMin, c.delegateProtocolMax, c.delegateProtocolVersion]);
  }

  private security(): WireSecurity {
    const c = this.config;
    return {
      keyring: c.keyring,
      encryptionVersion: c.protocolVersion === 1 ? 0 : 1,
      label: c.label,
      verifyIncoming: c.gossipVerifyIncoming,
      verifyOutgoing: c.gossipVerifyOutgoing,
    };
  }

  // ---------------------------------------------------------------- public API

  /**
   * Push/pull with each "host:port" (join=true). Resolves with how many
   * answered; rejects when none did, with every error in the message.
   */
  async join(addrs: readonly string[]): Promise<number> {
    const errors: string[] = [];
    let ok = 0;
    for (const a of addrs) {
      const i = a.lastIndexOf(':');
      const host = i > 0 ? a.slice(0, i) : a;
      const port = i > 0 ? Number(a.slice(i + 1)) : 7946;
      try {
        await this.pushPullNode(host, port, true);
        ok++;
      } catch (err) {
        const msg = `failed to join ${host}:${port}: ${(err as Error).message}`;
        this.log.error(`memberlist: ${msg}`);
        errors.push(msg);
      }
    }
    if (ok === 0) throw new Error(errors.join('; ') || 'no addresses to join');
    this.queueJoinIntent();
    return ok;
  }

  /** Piggybacks a user message on gossip; a `key` replaces an older queued message with the same key. */
  sendUserBroadcast(msg: Buffer, key?: string): void {
    this.broadcasts.queue({ name: key === undefined ? null : `user:${key}`, msg: this.userPacket(msg) });
  }

  members(): NodeInfo[] {
    return this.nodes.map((m) => this.info(m));
  }

  /** Live members (alive or suspect), ourselves included. */
  liveMembers(): NodeInfo[] {
    return this.members().filter((m) => m.status === 'alive' || m.status === 'suspect');
  }

  localNode(): NodeInfo {
    return this.info(this.byName.get(this.config.name)!);
  }

  healthScore(): number {
    return this.awareness.getHealthScore();
  }

  /** Replaces our tags and gossips the new meta (a refute-style alive). */
  updateTags(tags: Record<string, string>): void {
    const meta = encodeTags(tags);
    if (meta.length > META_MAX_SIZE) throw new Error('node meta (tags) exceeds 512 bytes');
    this.config.tags = { ...tags };
    const me = this.byName.get(this.config.name)!;
    this.aliveNode({ incarnation: ++this.incarnation, node: me.name, addr: me.addr, port: me.port, meta, vsn: this.vsn() }, true);
  }

  /**
   * Graceful leave: a serf leave intent, then dead{Node: self, From: self};
   * waits (bounded) until both have been gossiped. Call shutdown() after.
   */
  async leave(timeoutMs = 5000): Promise<void> {
    if (this.left || !this.running) return;
    const me = this.byName.get(this.config.name)!;
    const others = () => this.nodes.some((n) => n.name !== me.name && n.state !== NodeStateType.dead && n.state !== NodeStateType.left);
    const deadline = Date.now() + timeoutMs;
    if (others()) {
      await this.broadcastAndWait('serf:intent', encodeLeaveIntent(this.clock.time(), me.name), timeoutMs / 2);
      this.clock.increment();
    }
    this.left = true;
    const finished = new Promise<void>((resolve) => this.deadNode({ incarnation: me.incarnation, node: me.name, from: me.name }, resolve));
    if (others()) await this.withTimeout(finished, Math.max(0, deadline - Date.now()));
  }

  /** Stops timers and closes the sockets without telling anyone (a crash, as far as peers can tell). */
  async shutdown(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.suspicions.values()) s.cancel();
    this.suspicions.clear();
    for (const h of this.ackHandlers.values()) clearTimeout(h.timer);
    this.ackHandlers.clear();
    this.broadcasts.reset();
    await this.transport.close();
  }

  // ---------------------------------------------------------------- helpers

  private info(m: Member): NodeInfo {
    return {
      name: m.name,
      addr: addrString(m.addr),
      port: m.port,
      tags: decodeTags(m.meta),
      status: STATUS[m.state],
      incarnation: m.incarnation,
      protocolMax: m.vsn[1],
    };
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.running) fn();
    }, ms);
    this.timers.add(t);
  }

  private withTimeout(p: Promise<void>, ms: number): Promise<void> {
    return Promise.race([p, sleep(ms)]);
  }

  private async broadcastAndWait(name: string, msg: Buffer, timeoutMs: number): Promise<void> {
    const done = new Promise<void>((resolve) => this.broadcasts.queue({ name, msg: this.userPacket(msg, false), finished: resolve }));
    await this.withTimeout(done, timeoutMs);
  }

  /** `[8][...]`; application messages get our type byte so serf can tell them apart. */
  private userPacket(msg: Buffer, app = true): Buffer {
    return Buffer.concat([Buffer.from(app ? [MessageType.user, APP_MESSAGE_TYPE] : [MessageType.user]), msg]);
  }

  private queueJoinIntent(): void {
    const ltime = this.clock.time();
    this.clock.witness(ltime);
    this.joinLTime = ltime;
    this.broadcasts.queue({ name: 'serf:intent', msg: this.userPacket(encodeJoinIntent(ltime, this.config.name), false) });
  }

  private nextSeqNo(): number {
    this.seqNo = (this.seqNo + 1) >>> 0;
    return this.seqNo;
  }

  private selfPing(node: string): Ping {
    return {
      seqNo: this.nextSeqNo(),
      node,
      sourceAddr: this.advertise!.addr,
      sourcePort: this.advertise!.port,
      sourceNode: this.config.name,
    };
  }

  private memberAt(host: string, port: number): Member | undefined {
    return this.nodes.find((n) => n.port === port && addrString(n.addr) === host);
  }

  // ---------------------------------------------------------------- sending

  /** Sends one message, piggybacking queued broadcasts in a compound. */
  private async sendMsg(host: string, port: number, msg: Buffer): Promise<void> {
    let avail = this.config.udpBufferSize - msg.length - COMPOUND_HEADER_OVERHEAD - labelOverhead(this.config.label);
    if (this.config.keyring && this.config.gossipVerifyOutgoing) avail -= encryptOverhead(this.security().encryptionVersion);
    const extra = this.broadcasts.getBroadcasts(COMPOUND_OVERHEAD, avail);
    await this.rawSendPacket(host, port, extra.length === 0 ? msg : makeCompound([msg, ...extra]));
  }

  private async rawSendPacket(host: string, port: number, msg: Buffer): Promise<void> {
    const target = this.memberAt(host, port);
    let out = encodePacket(msg, { ...this.security(), compress: this.config.enableCompression, crc: (target?.vsn[1] ?? 0) >= 5 });
    if (this.config.label) out = Buffer.concat([labelHeader(this.config.label), out]);
    await this.transport.sendPacket(out, host, port);
  }

  private send(host: string, port: number, msg: Buffer, what: string): void {
    this.sendMsg(host, port, msg).catch((err: Error) => this.log.error(`memberlist: failed to send ${what} to ${host}:${port}: ${err.message}`));
  }

  // ---------------------------------------------------------------- packets in

  private ingestPacket(p: Packet): void {
    if (!this.running) return;
    const from = `${p.from.address}:${p.from.port}`;
    let msg: Buffer;
    try {
      msg = decodePacket(p.buf, this.security());
    } catch (err) {
      this.log.error(`memberlist: ${(err as Error).message} from=${from}`);
      return;
    }
    for (const leaf of flattenMessage(msg, (err) => this.log.error(`memberlist: ${err.message} from=${from}`))) {
      try {
        this.handleCommand(leaf.type, leaf.body, p.from.address, p.from.port);
      } catch (err) {
        this.log.error(`memberlist: failed to handle message type ${leaf.type}: ${(err as Error).message} from=${from}`);
      }
    }
  }

  private handleCommand(type: number, body: Buffer, host: string, port: number): void {
    switch (type) {
      case MessageType.ping:
        return this.handlePing(decodePing(body), host, port);
      case MessageType.indirectPing:
        return this.handleIndirectPing(body, host, port);
      case MessageType.ackResp: {
        const ack = decodeAck(body);
        const h = this.ackHandlers.get(ack.seqNo);
        if (!h) return;
        this.ackHandlers.delete(ack.seqNo);
        clearTimeout(h.timer);
        return h.ack(ack.payload);
      }
      case MessageType.nackResp:
        return this.ackHandlers.get(decodeNack(body).seqNo)?.nack?.();
      case MessageType.suspect:
        return this.suspectNode(decodeSuspect(body));
      case MessageType.alive:
        return this.aliveNode(decodeAlive(body), false);
      case MessageType.dead:
        return this.deadNode(decodeDead(body));
      case MessageType.user:
        return this.handleUser(body, `${host}:${port}`);
      default:
        this.log.error(`memberlist: msg type (${type}) not supported from=${host}:${port}`);
    }
  }

  private handlePing(p: Ping, host: string, port: number): void {
    if (p.node !== '' && p.node !== this.config.name) {
      this.log.warn(`memberlist: got ping for unexpected node '${p.node}' from=${host}:${port}`);
      return;
    }
    const to = p.sourceAddr && p.sourceAddr.length > 0 && p.sourcePort > 0 ? { host: addrString(p.sourceAddr), port: p.sourcePort } : { host, port };
    this.send(to.host, to.port, encodeAck({ seqNo: p.seqNo, payload: null }), 'ack');
  }

  private handleIndirectPing(body: Buffer, host: string, port: number): void {
    const ind = decodeIndirectPing(body);
    const replyTo = ind.sourceAddr && ind.sourceAddr.length > 0 && ind.sourcePort > 0 ? { host: addrString(ind.sourceAddr), port: ind.sourcePort } : { host, port };
    const ping = this.selfPing(ind.node);
    let answered = false;
    this.setAckHandler(
      ping.seqNo,
      () => {
        answered = true;
        this.send(replyTo.host, replyTo.port, encodeAck({ seqNo: ind.seqNo, payload: null }), 'forwarded ack');
      },
      undefined,
      this.config.probeTimeoutMs,
    );
    this.send(addrString(ind.target), ind.port || this.config.bindPort, encodePing(ping), 'indirect ping');
    if (ind.nack) {
      this.later(this.config.probeTimeoutMs, () => {
        if (!answered) this.send(replyTo.host, replyTo.port, encodeNack({ seqNo: ind.seqNo }), 'nack');
      });
    }
  }

  private setAckHandler(seqNo: number, ack: AckHandler['ack'], nack: AckHandler['nack'], timeoutMs: number, onTimeout?: () => void): void {
    const timer = setTimeout(() => {
      this.ackHandlers.delete(seqNo);
      onTimeout?.();
    }, timeoutMs);
    this.ackHandlers.set(seqNo, { ack, nack, timer });
  }

  private handleUser(body: Buffer, from: string): void {
    if (body.length === 0) return;
    if (body[0] === APP_MESSAGE_TYPE) {
      this.delegate.onUserMessage?.(body.subarray(1), from);
      return;
    }
    // serf join/leave intents run the member clock our own intents use
    const ltime = intentLTime(body);
    if (ltime !== null) this.clock.witness(ltime);
  }

  // ---------------------------------------------------------------- streams

  private async handleConn(socket: net.Socket): Promise<void> {
    const reader = new StreamReader(socket, this.config.tcpTimeoutMs);
    const from = `${socket.remoteAddress}:${socket.remotePort}`;
    try {
      const label = await reader.readLabel();
      if (label !== this.config.label) {
        this.log.error(`memberlist: discarding stream with unacceptable label "${label}" from=${from}`);
        return;
      }
      let msg: StreamMessage;
      try {
        msg = await reader.read((b) => parseStreamMessage(b, this.security()));
      } catch (err) {
        const e = err as Error;
        if (e.message === 'EOF') return;
        this.log.error(`memberlist: failed to receive: ${e.message} from=${from}`);
        socket.end(encodeStreamMessage(encodeErr({ error: e.message }), this.streamOpts()));
        return;
      }
      switch (msg.type) {
        case MessageType.ping: {
          const p = decodePing(msg.body);
          if (p.node !== '' && p.node !== this.config.name) {
            this.log.warn(`memberlist: got ping for unexpected node ${p.node} from=${from}`);
            return;
          }
          socket.end(encodeStreamMessage(encodeAck({ seqNo: p.seqNo, payload: null }), this.streamOpts()));
          return;
        }
        case MessageType.pushPull: {
          if (this.pushPullRequests >= MAX_PUSH_PULL_REQUESTS) {
            this.log.error('memberlist: too many pending push/pull requests');
            return;
          }
          this.pushPullRequests++;
          try {
            const remote = decodePushPull(msg.body);
            socket.end(encodeStreamMessage(this.localState(remote.join), this.streamOpts()));
            this.mergeRemoteState(remote.join, remote.nodes, remote.userState);
          } finally {
            this.pushPullRequests--;
          }
          return;
        }
        case MessageType.user:
          this.handleUser(decodeStreamUserMsg(msg.body), from);
          return;
        default:
          this.log.error(`memberlist: received invalid msgType (${msg.type}) from=${from}`);
      }
    } catch (err) {
      this.log.error(`memberlist: stream from ${from}: ${(err as Error).message}`);
    } finally {
      reader.done();
      socket.end();
    }
  }

  private streamOpts(): WireSecurity & { compress: boolean } {
    return { ...this.security(), compress: this.config.enableCompression };
  }

  /** Dials, sends one message and reads one reply. */
  private async exchange(host: string, port: number, msg: Buffer, timeoutMs: number): Promise<StreamMessage> {
    const socket = await this.transport.dial(host, port, timeoutMs);
    const reader = new StreamReader(socket, timeoutMs);
    try {
      const out = encodeStreamMessage(msg, this.streamOpts());
      socket.write(this.config.label ? Buffer.concat([labelHeader(this.config.label), out]) : out);
      const reply = await reader.read((b) => parseStreamMessage(b, this.security()));
      if (reply.type === MessageType.err) throw new Error(`remote error: ${decodeErr(reply.body).error}`);
      return reply;
    } finally {
      reader.done();
      socket.destroy();
    }
  }

  /** Sends a direct user message over TCP. */
  async sendReliable(host: string, port: number, msg: Buffer): Promise<void> {
    const socket = await this.transport.dial(host, port, this.config.tcpTimeoutMs);
    try {
      const out = encodeStreamMessage(encodeStreamUserMsg(Buffer.concat([Buffer.from([APP_MESSAGE_TYPE]), msg])), this.streamOpts());
      await new Promise<void>((resolve, reject) =>
        socket.end(this.config.label ? Buffer.concat([labelHeader(this.config.label), out]) : out, () => resolve()).once('error', reject),
      );
    } finally {
      socket.destroy();
    }
  }

  private localState(join: boolean): Buffer {
    const nodes: PushNodeState[] = this.nodes.map((n) => ({
      name: n.name,
      addr: n.addr,
      port: n.port,
      meta: n.meta,
      incarnation: n.incarnation,
      state: n.state,
      vsn: Buffer.from(n.vsn),
    }));
    const app = this.delegate.localState?.(join) ?? null;
    const user = encodeSerfPushPull(this.clock.time(), { [this.config.name]: this.joinLTime }, app);
    return encodePushPull(join, nodes, user);
  }

  private async pushPullNode(host: string, port: number, join: boolean): Promise<void> {
    const reply = await this.exchange(host, port, this.localState(join), this.config.tcpTimeoutMs);
    if (reply.type !== MessageType.pushPull) throw new Error(`received invalid msgType (${reply.type}), expected pushPullMsg (6)`);
    const remote = decodePushPull(reply.body);
    this.mergeRemoteState(join, remote.nodes, remote.userState);
  }

  private mergeRemoteState(join: boolean, nodes: PushNodeState[], userState: Buffer | null): void {
    this.verifyProtocol(nodes);
    this.mergeState(nodes);
    if (!userState || userState.length === 0) return;
    try {
      const pp = decodeSerfPushPull(userState);
      if (pp.ltime > 0) this.clock.witness(pp.ltime - 1);
      if (pp.appState) this.delegate.mergeRemoteState?.(pp.appState, join);
    } catch (err) {
      this.log.warn(`memberlist: ignoring remote user state: ${(err as Error).message}`);
    }
  }

  /** Every live node's current protocol must fit every live node's [min, max] range. */
  private verifyProtocol(remote: PushNodeState[]): void {
    const ranges: number[][] = [];
    for (const r of remote) if (r.state === NodeStateType.alive && r.vsn && r.vsn.length >= 6) ranges.push([...r.vsn]);
    for (const n of this.nodes) if (n.state === NodeStateType.alive) ranges.push(n.vsn);
    const maxPMin = Math.max(0, ...ranges.map((v) => v[0]!));
    const minPMax = Math.min(255, ...ranges.map((v) => v[1]!));
    const maxDMin = Math.max(0, ...ranges.map((v) => v[3]!));
    const minDMax = Math.min(255, ...ranges.map((v) => v[4]!));
    for (const v of ranges) {
      if (v[2]! < maxPMin || v[2]! > minPMax) throw new Error(`protocol version (${v[2]}) is incompatible: [${maxPMin}, ${minPMax}]`);
      if (v[5]! < maxDMin || v[5]! > minDMax) throw new Error(`delegate protocol version (${v[5]}) is incompatible: [${maxDMin}, ${minDMax}]`);
    }
  }

  private mergeState(remote: PushNodeState[]): void {
    for (const r of remote) {
      switch (r.state) {
        case NodeStateType.alive:
          this.aliveNode({ incarnation: r.incarnation, node: r.name, addr: r.addr, port: r.port, meta: r.meta, vsn: r.vsn }, false);
          break;
        case NodeStateType.left:
          this.deadNode({ incarnation: r.incarnation, node: r.name, from: r.name });
          break;
        case NodeStateType.dead:
        case NodeStateType.suspect:
          this.suspectNode({ incarnation: r.incarnation, node: r.name, from: this.config.name });
          break;
      }
    }
  }

  // ---------------------------------------------------------------- SWIM state

  private broadcastMsg(name: string, msg: Buffer, finished?: () => void): void {
    this.broadcasts.queue({ name, msg, finished });
  }

  private aliveNode(a: Alive, bootstrap: boolean): void {
    const isLocal = a.node === this.config.name;
    if (this.left && isLocal) return;
    if (a.vsn && a.vsn.length >= 3) {
      const [pmin, pmax] = [a.vsn[0]!, a.vsn[1]!];
      if (pmin === 0 || pmax === 0 || pmin > pmax) {
        this.log.warn(`memberlist: ignoring an alive message for '${a.node}' because protocol version(s) are wrong`);
        return;
      }
    }
    let state = this.byName.get(a.node);
    let updatesNode = false;
    if (!state) {
      state = {
        name: a.node,
        addr: a.addr,
        port: a.port,
        meta: a.meta,
        state: NodeStateType.dead,
        incarnation: 0,
        stateChange: Date.now(),
        vsn: [0, 0, 0, 0, 0, 0],
      };
      if (a.vsn && a.vsn.length > 5) state.vsn = [...a.vsn.subarray(0, 6)] as Member['vsn'];
      this.byName.set(a.node, state);
      // random position so probes of a new node are spread out
      const offset = Math.floor(Math.random() * (this.nodes.length + 1));
      this.nodes.splice(offset, 0, state);
    } else if (!state.addr.equals(a.addr) || state.port !== a.port) {
      if (state.state === NodeStateType.left) {
        this.log.info(`memberlist: updating address for left node ${state.name} to ${addrString(a.addr)}:${a.port}`);
        updatesNode = true;
      } else {
        this.log.error(
          `memberlist: conflicting address for ${state.name}. Mine: ${addrString(state.addr)}:${state.port} Theirs: ${addrString(a.addr)}:${a.port} Old state: ${STATUS[state.state]}`,
        );
        return;
      }
    }
    if (a.incarnation <= state.incarnation && !isLocal && !updatesNode) return;
    if (a.incarnation < state.incarnation && isLocal) return;

    this.suspicions.get(a.node)?.cancel();
    this.suspicions.delete(a.node);
    const oldState = state.state;
    const oldMeta = state.meta;

    if (!bootstrap && isLocal) {
      if (a.incarnation === state.incarnation && bufEq(a.meta, state.meta) && bufEq(a.vsn, Buffer.from(state.vsn))) return;
      this.refute(state, a.incarnation);
      this.log.warn(`memberlist: refuting an alive message for '${a.node}'`);
      return;
    }
    this.broadcastMsg(a.node, encodeAlive(a));
    if (a.vsn && a.vsn.length >= 6) state.vsn = [...a.vsn.subarray(0, 6)] as Member['vsn'];
    state.incarnation = a.incarnation;
    state.meta = a.meta;
    state.addr = a.addr;
    state.port = a.port;
    if (state.state !== NodeStateType.alive) {
      state.state = NodeStateType.alive;
      state.stateChange = Date.now();
    }
    if (oldState === NodeStateType.dead || oldState === NodeStateType.left) this.emit('join', this.info(state));
    else {
      if (oldState === NodeStateType.suspect) this.emit('alive', this.info(state));
      if (!bufEq(oldMeta, state.meta)) this.emit('update', this.info(state));
    }
  }

  private refute(me: Member, accusedInc: number): void {
    let inc = ++this.incarnation;
    if (accusedInc >= inc) inc = this.incarnation = accusedInc + 1;
    me.incarnation = inc;
    this.awareness.applyDelta(1);
    this.broadcastMsg(me.name, encodeAlive({ incarnation: inc, node: me.name, addr: me.addr, port: me.port, meta: me.meta, vsn: Buffer.from(me.vsn) }));
    this.emit('alive', this.info(me));
  }

  private suspectNode(s: Suspect): void {
    const state = this.byName.get(s.node);
    if (!state || s.incarnation < state.incarnation) return;
    const timer = this.suspicions.get(s.node);
    if (timer) {
      if (timer.confirm(s.from)) this.broadcastMsg(s.node, encodeSuspect(s));
      return;
    }
    if (state.state !== NodeStateType.alive) return;
    if (state.name === this.config.name) {
      this.refute(state, s.incarnation);
      this.log.warn(`memberlist: refuting a suspect message (from: ${s.from})`);
      return;
    }
    this.broadcastMsg(s.node, encodeSuspect(s));
    state.incarnation = s.incarnation;
    state.state = NodeStateType.suspect;
    const changeTime = Date.now();
    state.stateChange = changeTime;

    const n = this.nodes.length;
    let k = this.config.suspicionMult - 2;
    if (n - 2 < k) k = 0;
    const min = suspicionTimeout(this.config.suspicionMult, n, this.config.probeIntervalMs);
    const max = this.config.suspicionMaxTimeoutMult * min;
    this.suspicions.set(
      s.node,
      new Suspicion(s.from, k, min, max, (confirmations) => {
        if (!this.running) return;
        const cur = this.byName.get(s.node);
        if (!cur || cur.state !== NodeStateType.suspect || cur.stateChange !== changeTime) return;
        this.log.info(`memberlist: marking ${cur.name} as failed, suspect timeout reached (${confirmations} peer confirmations)`);
        this.deadNode({ incarnation: cur.incarnation, node: cur.name, from: this.config.name });
      }),
    );
  }

  private deadNode(d: Dead, finished?: () => void): void {
    const state = this.byName.get(d.node);
    if (!state || d.incarnation < state.incarnation) {
      finished?.();
      return;
    }
    this.suspicions.get(d.node)?.cancel();
    this.suspicions.delete(d.node);
    if (state.state === NodeStateType.dead || state.state === NodeStateType.left) {
      finished?.();
      return;
    }
    if (state.name === this.config.name && !this.left) {
      this.refute(state, d.incarnation);
      this.log.warn(`memberlist: refuting a dead message (from: ${d.from})`);
      return;
    }
    this.broadcastMsg(d.node, encodeDead(d), finished);
    state.incarnation = d.incarnation;
    state.state = d.node === d.from ? NodeStateType.left : NodeStateType.dead;
    state.stateChange = Date.now();
    this.emit(state.state === NodeStateType.left ? 'leave' : 'dead', this.info(state));
  }

  // ---------------------------------------------------------------- loops

  private schedule(): void {
    const c = this.config;
    const stagger = (ms: number) => Math.floor(Math.random() * ms);
    if (c.probeIntervalMs > 0) this.later(stagger(c.probeIntervalMs), () => void this.probeLoop());
    if (c.gossipIntervalMs > 0 && c.gossipNodes > 0) {
      const tick = () => {
        this.gossip();
        this.later(c.gossipIntervalMs, tick);
      };
      this.later(stagger(c.gossipIntervalMs), tick);
    }
    if (c.pushPullIntervalMs > 0) {
      const tick = () => {
        this.pushPull();
        this.later(pushPullScale(c.pushPullIntervalMs, this.nodes.length), tick);
      };
      this.later(stagger(c.pushPullIntervalMs), tick);
    }
  }

  private async probeLoop(): Promise<void> {
    const started = Date.now();
    try {
      await this.probe();
    } catch (err) {
      this.log.error(`memberlist: probe failed: ${(err as Error).message}`);
    }
    // a ticker: the next probe starts on the next interval boundary
    const spent = Date.now() - started;
    const interval = this.config.probeIntervalMs;
    this.later(interval - (spent % interval), () => void this.probeLoop());
  }

  private async probe(): Promise<void> {
    for (let checked = 0; checked < this.nodes.length; ) {
      if (this.probeIndex >= this.nodes.length) {
        this.resetNodes();
        this.probeIndex = 0;
        checked++;
        continue;
      }
      const node = this.nodes[this.probeIndex++]!;
      if (node.name === this.config.name || node.state === NodeStateType.dead || node.state === NodeStateType.left) {
        checked++;
        continue;
      }
      await this.probeNode(node);
      return;
    }
  }

  /** Drops dead/left nodes older than GossipToTheDeadTime and reshuffles. */
  private resetNodes(): void {
    const now = Date.now();
    this.nodes = this.nodes.filter((n) => {
      const gone = (n.state === NodeStateType.dead || n.state === NodeStateType.left) && now - n.stateChange > this.config.gossipToTheDeadTimeMs;
      if (gone) this.byName.delete(n.name);
      return !gone;
    });
    shuffle(this.nodes);
  }

  private async probeNode(node: Member): Promise<void> {
    const c = this.config;
    const probeInterval = this.awareness.scaleTimeout(c.probeIntervalMs);
    const ping = this.selfPing(node.name);
    const host = addrString(node.addr);
    const deadline = Date.now() + probeInterval;
    let nacks = 0;
    let resolveAck!: (acked: boolean) => void;
    const acked = new Promise<boolean>((r) => (resolveAck = r));
    this.setAckHandler(
      ping.seqNo,
      () => resolveAck(true),
      () => nacks++,
      probeInterval,
      () => resolveAck(false),
    );
    let delta = 0;
    try {
      if (node.state === NodeStateType.alive) await this.sendMsg(host, node.port, encodePing(ping));
      else {
        const sus = encodeSuspect({ incarnation: node.incarnation, node: node.name, from: c.name });
        await this.rawSendPacket(host, node.port, makeCompound([encodePing(ping), sus]));
      }
      delta = -1;
      const direct = await Promise.race([acked, sleep(c.probeTimeoutMs).then(() => null)]);
      if (direct === true) return;
      this.log.debug(`memberlist: failed UDP ping: ${node.name} (timeout reached)`);
    } catch (err) {
      this.log.error(`memberlist: failed to send UDP ping: ${(err as Error).message}`);
    }

    const peers = kRandomMembers(c.indirectChecks, this.nodes, (n) => n.name !== c.name && n.name !== node.name && n.state === NodeStateType.alive);
    let expectedNacks = 0;
    for (const peer of peers) {
      const nack = peer.vsn[1] >= 4;
      if (nack) expectedNacks++;
      const ind = encodeIndirectPing({ ...ping, target: node.addr, port: node.port, nack });
      this.send(addrString(peer.addr), peer.port, ind, 'indirect ping');
    }
    const fallback = !c.disableTcpPings && node.vsn[1] >= 3 ? this.tcpPing(host, node.port, ping, deadline) : Promise.resolve(false);

    if (await acked) {
      this.awareness.applyDelta(delta);
      return;
    }
    if (await fallback) {
      this.log.warn(`memberlist: was able to connect to ${node.name} over TCP but UDP probes failed, network may be misconfigured`);
      this.awareness.applyDelta(delta);
      return;
    }
    this.awareness.applyDelta(expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1);
    if (!this.running) return;
    this.log.info(`memberlist: suspect ${node.name} has failed, no acks received`);
    this.suspectNode({ incarnation: node.incarnation, node: node.name, from: c.name });
  }

  private async tcpPing(host: string, port: number, ping: Ping, deadline: number): Promise<boolean> {
    try {
      const reply = await this.exchange(host, port, encodePing(ping), Math.max(1, deadline - Date.now()));
      if (reply.type !== MessageType.ackResp) throw new Error(`unexpected msgType (${reply.type}) from ping`);
      const ack = decodeAck(reply.body);
      if (ack.seqNo !== ping.seqNo) throw new Error(`sequence number from ack (${ack.seqNo}) doesn't match ping (${ping.seqNo})`);
      return true;
    } catch (err) {
      this.log.debug(`memberlist: failed fallback TCP ping: ${(err as Error).message}`);
      return false;
    }
  }

  private gossip(): void {
    const c = this.config;
    const now = Date.now();
    const targets = kRandomMembers(c.gossipNodes, this.nodes, (n) => {
      if (n.name === c.name) return false;
      if (n.state === NodeStateType.alive || n.state === NodeStateType.suspect) return true;
      return n.state === NodeStateType.dead && now - n.stateChange <= c.gossipToTheDeadTimeMs;
    });
    let avail = c.udpBufferSize - COMPOUND_HEADER_OVERHEAD - labelOverhead(c.label);
    if (c.keyring) avail -= encryptOverhead(this.security().encryptionVersion);
    for (const node of targets) {
      const msgs = this.broadcasts.getBroadcasts(COMPOUND_OVERHEAD, avail);
      if (msgs.length === 0) return;
      const host = addrString(node.addr);
      for (const pkt of msgs.length === 1 ? msgs : makeCompounds(msgs)) {
        this.rawSendPacket(host, node.port, pkt).catch((err: Error) => this.log.error(`memberlist: failed to send gossip to ${node.name}: ${err.message}`));
      }
    }
  }

  private pushPull(): void {
    const [node] = kRandomMembers(1, this.nodes, (n) => n.name !== this.config.name && n.state === NodeStateType.alive);
    if (!node) return;
    this.pushPullNode(addrString(node.addr), node.port, false).catch((err: Error) =>
      this.log.error(`memberlist: push/pull with ${node.name} failed: ${err.message}`),
    );
  }
}

function bufEq(a: Buffer | null, b: Buffer | null): boolean {
  return (a ?? Buffer.alloc(0)).equals(b ?? Buffer.alloc(0));
}
