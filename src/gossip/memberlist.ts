// A memberlist-compatible SWIM node (hashicorp/memberlist memberlist.go) that
// serf agents accept as a member with tags: the public API. The wire handlers,
// SWIM transitions and loops live in handlers.ts, membership.ts, pushpull.ts
// and probe.ts, sharing the state in core.ts. Serf is the layer plugged in
// above (serf-delegate.ts, memberlist's Delegate): it encodes the tags, frames
// the application's messages, and adds its intents to a join and a leave; the
// application's own hooks (config.delegate) sit above serf.
import { EventEmitter } from 'node:events';
import { joinHostPort, splitHostPort } from '../util/hostport.js';
import { ipToWire, isUnspecified, unreachableReason } from './address.js';
import { DEFAULT_PORT, type GossipConfig, defaultLANConfig } from './config.js';
import { GossipCore, type GossipEvents, type NodeInfo, sleep } from './core.js';
import { handleConn, ingestPacket } from './handlers.js';
import { labelHeader } from './label.js';
import { aliveNode, deadNode } from './membership.js';
import { MessageType, NodeStateType, encodeStreamUserMsg } from './messages.js';
import { encodeStreamMessage } from './net.js';
import { schedule } from './probe.js';
import { pushPullNode } from './pushpull.js';
import { rawSendPacket } from './send.js';
import { SerfDelegate } from './serf-delegate.js';
import { Transport } from './transport.js';

export type { GossipEvents, MemberStatus, NodeInfo } from './core.js';
export type { GossipDelegate } from './delegate.js';

/** What a Memberlist is made with: its name, and whatever differs from the LAN defaults. */
export type MemberlistOptions = Partial<GossipConfig> & { name: string };

/** A member as operators see it: NodeInfo plus what only the member table holds. */
export interface MemberDetail extends NodeInfo {
  /** memberlist protocol (min, max, current) and delegate protocol versions the member announced. */
  vsn: { pmin: number; pmax: number; pcur: number; dmin: number; dmax: number; dcur: number };
  /** Date.now() when its state last changed. */
  stateChange: number;
  /** This node itself. */
  self: boolean;
}

const META_MAX_SIZE = 512;
const PMIN = 1;
const PMAX = 5;

export class Memberlist extends EventEmitter<GossipEvents> {
  readonly config: GossipConfig;
  private readonly core: GossipCore;

  constructor(config: MemberlistOptions) {
    super();
    this.config = { ...defaultLANConfig(config.name), ...config };
    const transport = new Transport(
      (p) => ingestPacket(this.core, p),
      (s) => void handleConn(this.core, s),
    );
    this.core = new GossipCore(this.config, transport, this, (core) => new SerfDelegate(core, this.config.delegate ?? {}));
    if (this.core.delegate.nodeMeta(this.config.tags).length > META_MAX_SIZE) throw new Error('node meta (tags) exceeds 512 bytes');
  }

  /** Binds the sockets, adds ourselves as alive and starts probing and gossiping. */
  async start(): Promise<void> {
    const core = this.core;
    if (core.running) throw new Error('already started');
    const { bindAddr, bindPort } = this.config;
    const host = this.config.advertiseAddr ?? bindAddr;
    if (isUnspecified(host)) throw new Error(`set advertiseAddr when binding to ${bindAddr}`);
    const unreachable = unreachableReason(bindAddr, host);
    if (unreachable) throw new Error(`cannot advertise ${host}: ${unreachable}`);
    const addr = ipToWire(host);
    await core.transport.listen(bindAddr, bindPort);
    core.advertise = { addr, host, port: this.config.advertisePort ?? core.transport.port };
    core.running = true;
    aliveNode(
      core,
      {
        incarnation: ++core.incarnation,
        node: this.config.name,
        addr: core.advertise.addr,
        port: core.advertise.port,
        meta: core.delegate.nodeMeta(this.config.tags),
        vsn: this.vsn(),
      },
      true,
    );
    core.delegate.joined();
    schedule(core);
  }

  /** The port we listen on (useful with bindPort 0). */
  get port(): number {
    return this.core.advertise?.port ?? 0;
  }

  private vsn(): Buffer {
    const c = this.config;
    return Buffer.from([PMIN, PMAX, c.protocolVersion, c.delegateProtocolMin, c.delegateProtocolMax, c.delegateProtocolVersion]);
  }

  // ---------------------------------------------------------------- public API

  /**
   * Push/pull with each "host:port", "[ipv6]:port" or bare IPv6 (join=true).
   * Resolves with how many answered; rejects when none did, with every error
   * in the message.
   */
  async join(addrs: readonly string[]): Promise<number> {
    const errors: string[] = [];
    let ok = 0;
    for (const a of addrs) {
      let target = a;
      try {
        const { host, port } = splitHostPort(a, DEFAULT_PORT);
        target = joinHostPort(host, port);
        await pushPullNode(this.core, host, port, true);
        ok++;
      } catch (err) {
        const msg = `failed to join ${target}: ${(err as Error).message}`;
        // The caller reports the attempt as a whole (a seed not up yet is no error of ours).
        this.core.log.debug(`memberlist: ${msg}`);
        errors.push(msg);
      }
    }
    if (ok === 0) throw new Error(errors.join('; ') || 'no addresses to join');
    this.core.delegate.joined();
    return ok;
  }

  /** A join-style push/pull with one node: node lists and application state both ways. */
  async pushPull(host: string, port: number): Promise<void> {
    await pushPullNode(this.core, host, port, true);
  }

  /** Piggybacks a user message on gossip; a `key` replaces an older queued message with the same key. */
  sendUserBroadcast(msg: Buffer, key?: string): void {
    this.core.broadcasts.queue({ name: key === undefined ? null : `user:${key}`, msg: this.userPacket(msg) });
  }

  /**
   * Sends a user message to one node in one UDP packet (memberlist
   * SendBestEffort): no retransmits, nothing piggybacked. Throws when it
   * does not fit in a packet.
   */
  async sendBestEffort(host: string, port: number, msg: Buffer): Promise<void> {
    const packet = this.userPacket(msg);
    if (packet.length > this.config.udpBufferSize)
      throw new Error(`user message of ${packet.length} bytes does not fit in a packet (${this.config.udpBufferSize})`);
    await rawSendPacket(this.core, host, port, packet);
  }

  /** Sends a direct user message over TCP. */
  async sendReliable(host: string, port: number, msg: Buffer): Promise<void> {
    const socket = await this.core.transport.dial(host, port, this.config.tcpTimeoutMs);
    try {
      const out = encodeStreamMessage(encodeStreamUserMsg(this.core.delegate.appMessage(msg)), this.core.streamOpts());
      await new Promise<void>((resolve, reject) =>
        socket.end(this.config.label ? Buffer.concat([labelHeader(this.config.label), out]) : out, () => resolve()).once('error', reject),
      );
    } finally {
      socket.destroy();
    }
  }

  /** One member by name (a map read, not a listing). */
  member(name: string): NodeInfo | undefined {
    const m = this.core.byName.get(name);
    return m ? this.core.info(m) : undefined;
  }

  members(): NodeInfo[] {
    return this.core.nodes.map((m) => this.core.info(m));
  }

  /** Every member with protocol versions and state-change time (read-only; for the API). */
  memberDetails(): MemberDetail[] {
    return this.core.nodes.map((m) => {
      const [pmin, pmax, pcur, dmin, dmax, dcur] = m.vsn;
      return { ...this.core.info(m), vsn: { pmin, pmax, pcur, dmin, dmax, dcur }, stateChange: m.stateChange, self: m.name === this.config.name };
    });
  }

  /** Live members (alive or suspect), ourselves included. */
  liveMembers(): NodeInfo[] {
    return this.members().filter((m) => m.status === 'alive' || m.status === 'suspect');
  }

  localNode(): NodeInfo {
    return this.core.info(this.core.byName.get(this.config.name)!);
  }

  healthScore(): number {
    return this.core.awareness.getHealthScore();
  }

  /** Replaces our tags and gossips the new meta (a refute-style alive). */
  updateTags(tags: Record<string, string>): void {
    const meta = this.core.delegate.nodeMeta(tags);
    if (meta.length > META_MAX_SIZE) throw new Error('node meta (tags) exceeds 512 bytes');
    this.config.tags = { ...tags };
    const me = this.core.byName.get(this.config.name)!;
    aliveNode(this.core, { incarnation: ++this.core.incarnation, node: me.name, addr: me.addr, port: me.port, meta, vsn: this.vsn() }, true);
  }

  /**
   * Graceful leave: a serf leave intent, then dead{Node: self, From: self};
   * waits (bounded) until both have been gossiped. Call shutdown() after.
   */
  async leave(timeoutMs = 5000): Promise<void> {
    const core = this.core;
    if (core.left || !core.running) return;
    const me = core.byName.get(this.config.name)!;
    const others = () => core.nodes.some((n) => n.name !== me.name && n.state !== NodeStateType.dead && n.state !== NodeStateType.left);
    const deadline = Date.now() + timeoutMs;
    const intentSent = core.delegate.leaving();
    if (others()) await this.withTimeout(intentSent, timeoutMs / 2);
    core.left = true;
    const finished = new Promise<void>((resolve) => deadNode(core, { incarnation: me.incarnation, node: me.name, from: me.name }, resolve));
    if (others()) await this.withTimeout(finished, Math.max(0, deadline - Date.now()));
  }

  /** Stops timers and closes the sockets without telling anyone (a crash, as far as peers can tell). */
  async shutdown(): Promise<void> {
    this.core.stop();
    await this.core.transport.close();
  }

  // ---------------------------------------------------------------- helpers

  private withTimeout(p: Promise<void>, ms: number): Promise<void> {
    return Promise.race([p, sleep(ms)]);
  }

  /** `[8][...]`, the application's message framed by the layer above so serf can tell it apart. */
  private userPacket(msg: Buffer): Buffer {
    return Buffer.concat([Buffer.from([MessageType.user]), this.core.delegate.appMessage(msg)]);
  }
}
