// The local node's shared state (the fields of memberlist.go's Memberlist
// struct) and the small primitives every gossip module uses; the packet and
// stream handlers, the SWIM transitions and the probe/gossip loops receive it.
import type { EventEmitter } from 'node:events';
import { ipFromWire } from './address.js';
import { TransmitLimitedQueue } from './broadcast.js';
import type { GossipConfig, Logger } from './config.js';
import type { MemberlistDelegate } from './delegate.js';
import { NodeStateType, type Ping } from './messages.js';
import type { WireSecurity } from './net.js';
import { Awareness, type Member, type Suspicion } from './state.js';
import type { Transport } from './transport.js';

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

export const STATUS: Record<NodeStateType, MemberStatus> = { 0: 'alive', 1: 'suspect', 2: 'dead', 3: 'left' };

interface AckHandler {
  ack: (payload: Buffer | null) => void;
  nack?: () => void;
  timer: NodeJS.Timeout;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class GossipCore {
  readonly log: Logger;
  readonly broadcasts: TransmitLimitedQueue;
  readonly awareness: Awareness;
  /** The layer above: node meta, user messages and push/pull user state go through it. */
  readonly delegate: MemberlistDelegate;
  nodes: Member[] = [];
  readonly byName = new Map<string, Member>();
  readonly suspicions = new Map<string, Suspicion>();
  readonly ackHandlers = new Map<number, AckHandler>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private seqNo = 0;
  incarnation = 0;
  probeIndex = 0;
  pushPullRequests = 0;
  left = false;
  running = false;
  advertise: { addr: Buffer; host: string; port: number } | null = null;

  constructor(
    readonly config: GossipConfig,
    readonly transport: Transport,
    readonly events: EventEmitter<GossipEvents>,
    /** Makes the layer above, which works on this core. */
    delegate: (core: GossipCore) => MemberlistDelegate,
  ) {
    this.log = config.logger;
    this.broadcasts = new TransmitLimitedQueue(config.retransmitMult, () => this.nodes.length);
    this.awareness = new Awareness(config.awarenessMaxMultiplier);
    this.delegate = delegate(this);
  }

  /** Stops timers and pending work; the caller closes the transport. */
  stop(): void {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.suspicions.values()) s.cancel();
    this.suspicions.clear();
    for (const h of this.ackHandlers.values()) clearTimeout(h.timer);
    this.ackHandlers.clear();
    this.broadcasts.reset();
  }

  security(): WireSecurity {
    const c = this.config;
    return {
      keyring: c.keyring,
      encryptionVersion: c.protocolVersion === 1 ? 0 : 1,
      label: c.label,
      verifyIncoming: c.gossipVerifyIncoming,
      verifyOutgoing: c.gossipVerifyOutgoing,
    };
  }

  streamOpts(): WireSecurity & { compress: boolean } {
    return { ...this.security(), compress: this.config.enableCompression };
  }

  info(m: Member): NodeInfo {
    return {
      name: m.name,
      addr: ipFromWire(m.addr),
      port: m.port,
      tags: this.delegate.tagsOf(m.meta),
      status: STATUS[m.state],
      incarnation: m.incarnation,
      protocolMax: m.vsn[1],
    };
  }

  /** False for a member of the other address family: we neither probe nor gossip to it. */
  canReach(m: Member): boolean {
    return this.transport.unreachable(ipFromWire(m.addr)) === undefined;
  }

  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.running) fn();
    }, ms);
    this.timers.add(t);
  }

  private nextSeqNo(): number {
    this.seqNo = (this.seqNo + 1) >>> 0;
    return this.seqNo;
  }

  selfPing(node: string): Ping {
    return {
      seqNo: this.nextSeqNo(),
      node,
      sourceAddr: this.advertise!.addr,
      sourcePort: this.advertise!.port,
      sourceNode: this.config.name,
    };
  }

  setAckHandler(seqNo: number, ack: AckHandler['ack'], nack: AckHandler['nack'], timeoutMs: number, onTimeout?: () => void): void {
    const timer = setTimeout(() => {
      this.ackHandlers.delete(seqNo);
      onTimeout?.();
    }, timeoutMs);
    this.ackHandlers.set(seqNo, { ack, nack, timer });
  }
}
