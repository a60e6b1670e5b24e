// Registry replication between podswarm-dns nodes, over memberlist: the
// application behind memberlist's Delegate. As serf.Create does, it makes its
// Memberlist with that delegate in the config, so what memberlist calls is
// fixed from the start; the hooks do nothing until start() and after stop().
// Each endpoint/service is owned
// by the node that registered it; entries carry (owner, version), the newest
// version wins, deletions travel as tombstones. Every payload is checked
// first (validate.ts, messages.ts): only what passes is stored or served.
//
// Only members tagged role=podswarm-dns are ever sent anything, so serf and
// Go memberlist agents in the same cluster see none of it, and none of it
// depends on a random pick landing on a podswarm-dns node:
// - a change goes straight from its owner to every live podswarm-dns peer
//   (links.ts: batched, chunked, one stream at a time per peer), so its cost
//   is the change times the peers, never the state;
// - anti-entropy repairs what a lost send or a partition missed: every
//   syncIntervalMs a node sends one random peer a sum of everything it holds
//   (one UDP packet); only when sums differ do per-owner digests follow, and
//   then only the entries one side lacks (store.ts);
// - a join's push/pull carries the whole state both ways, and a node whose
//   seed was not a podswarm-dns node makes one such push/pull with a peer
//   (syncWithPeer), so a joining node answers for everything from the start;
//   memberlist's periodic push/pulls carry no registry state;
// - when a peer comes up (join, or back after failure or partition) each
//   node offers it the digest of what it owns itself, so it catches up with
//   every owner directly.
//
// When an owner is not alive, its entries stay served for keepDepartedMs
// after it left gracefully and keepDeadMs after it was declared dead (a
// restart of podswarm-dns does not stop the containers behind them), then
// leave the registry until it is alive again. A restarted owner announces
// @start, its entries again, then @synced with how many it has: what it had
// before @start is served until the new entries are all in, then dropped,
// so what disappeared during the restart goes without a gap in the rest.
import { type GossipDelegate, Memberlist, type MemberlistOptions, type NodeInfo } from '../gossip/memberlist.js';
import { type LocalChange, LocalChanges } from '../registry/local-changes.js';
import type { Registry } from '../registry/registry.js';
import type { Endpoint, Service, SourceSnapshot } from '../registry/types.js';
import { sourceKey } from '../sources/source-id.js';
import { PeerLinks } from './links.js';
import { type ControlMessage, type DigestMessage, type SumMessage, decodeControl, encodeDigest, encodeSum } from './messages.js';
import { type OwnerDigest, ReplicaStore } from './store.js';
import {
  type CheckedEntry,
  type Entry,
  FORMAT_DIGEST,
  FORMAT_ENTRIES,
  FORMAT_SUM,
  MAX_ENTRIES_PER_OWNER,
  MAX_PAYLOAD_BYTES,
  type Rejection,
  START_KEY,
  SYNCED_KEY,
  checkPayload,
  encodeEntries,
} from './validate.js';

/** The tag value every podswarm-dns node gossips as `role`: the only members replication talks to. */
export const PODSWARM_ROLE = 'podswarm-dns';
/**
 * An owner whose entries we had withdrawn and that is back since less than
 * this: a new @start from it is a restart after a failure, and replaces its
 * old entries at once instead of keeping them until @synced.
 */
const REJOIN_WINDOW_MS = 10_000;
/** How long a sum or digest from a member we do not know yet waits for it to appear. */
const UNKNOWN_PEER_WAIT_MS = 1000;
/** Control messages up to this size go in one UDP packet, larger ones over TCP. */
const PACKET_BYTES = 1000;
/** An endpoint entry's JSON is about 250-350 bytes: past this many a whole state is not even encoded. */
const AVERAGE_ENTRY_BYTES = 200;

export type SentKind = 'entries' | 'sum' | 'digest';
const KIND: Record<number, SentKind> = { [FORMAT_ENTRIES]: 'entries', [FORMAT_SUM]: 'sum', [FORMAT_DIGEST]: 'digest' };

export interface ReplicatorOptions {
  /** How long a gracefully departed owner's entries stay served; default 0 (dropped at once). */
  keepDepartedMs?: number;
  /** How long a dead owner's entries stay served as last known good; default 0 (dropped at once). */
  keepDeadMs?: number;
  /** Entries refused by validation, with the address of the node that sent them. */
  onReject?: (rejected: Rejection[], from: string) => void;
  /** Anti-entropy: how often a node compares sums with one random peer; default 5 s. */
  syncIntervalMs?: number;
  /** How long changes gather before going out to a peer; default 25 ms (links.ts). */
  lingerMs?: number;
  /** How long received entries gather before the registry is updated (answers follow within this); default 20 ms. */
  applyDelayMs?: number;
  /** A send to a peer failed (debug). */
  onSendError?: (peer: string, err: Error) => void;
}

type Value = { kind: 'endpoint'; endpoint: Endpoint } | { kind: 'service'; service: Service };

const isMarker = (key: string): boolean => key === START_KEY || key === SYNCED_KEY;
const sameDigest = (a: OwnerDigest, b: OwnerDigest): boolean => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];

export class RegistryReplicator {
  /** The memberlist this replication runs over, made with its delegate. */
  readonly ml: Memberlist;
  private readonly store = new ReplicaStore();
  private readonly sent: Record<SentKind, { messages: number; bytes: number }> = {
    entries: { messages: 0, bytes: 0 },
    sum: { messages: 0, bytes: 0 },
    digest: { messages: 0, bytes: 0 },
  };
  private readonly links: PeerLinks;
  private readonly local: LocalChanges;
  private lastVersion = 0;
  private readonly keepDepartedMs: number;
  private readonly keepDeadMs: number;
  /** How long a restarted owner's entries from before @start are served at most while it syncs. */
  private readonly resyncMs: number;
  /** Owners not alive whose entries are still served, until the timer fires. */
  private readonly held = new Map<string, NodeJS.Timeout>();
  /** Restarted owners whose entries from before @start are served until @synced, or the timer. */
  private readonly stale = new Map<string, NodeJS.Timeout>();
  /** Owners whose entries were taken out of the registry: when they came back (undefined: not yet). */
  private readonly withdrawn = new Map<string, number | undefined>();
  /** Owners with received entries not yet applied to the registry. */
  private readonly dirty = new Set<string>();
  private applyTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  /** Set once a podswarm-dns peer's whole state came in a join push/pull. */
  private gotState = false;
  private running = false;
  private readonly onUp = (n: NodeInfo): void => {
    this.unhold(n.name);
    this.refreshOwner(n.name);
  };
  /**
   * New, or back after failing or leaving: it may lack what we own. (A
   * refuted suspicion is no such gap: suspect members are sent to as ever.)
   */
  private readonly onJoin = (n: NodeInfo): void => {
    this.onUp(n);
    if (this.isPeer(n)) this.offerOwn(n.name);
  };
  private readonly onLeave = (n: NodeInfo): void => this.down(n.name, this.keepDepartedMs);
  private readonly onDead = (n: NodeInfo): void => this.down(n.name, this.keepDeadMs);
  /** What memberlist calls: the registry state in join push/pulls, and every message of ours. */
  private readonly delegate: GossipDelegate = {
    onUserMessage: (msg, from) => this.receive(msg, from),
    localState: (join) => (join && this.running ? this.wholeState() : null),
    mergeRemoteState: (buf, join, from) => {
      if (!join || !this.running || buf.length === 0) return;
      this.gotState = true;
      this.receive(buf, from);
    },
  };

  constructor(
    private readonly registry: Registry,
    memberlist: Omit<MemberlistOptions, 'delegate'>,
    private readonly opts: ReplicatorOptions = {},
  ) {
    this.ml = new Memberlist({ ...memberlist, delegate: this.delegate });
    this.keepDepartedMs = opts.keepDepartedMs ?? 0;
    this.keepDeadMs = opts.keepDeadMs ?? 0;
    this.resyncMs = Math.max(this.keepDepartedMs, this.keepDeadMs);
    this.links = new PeerLinks((peer, msg) => this.sendTo(peer, msg), { lingerMs: opts.lingerMs, onError: opts.onSendError });
    this.local = new LocalChanges(registry, (changes) => this.publish(changes));
  }

  private get self(): string {
    return this.ml.config.name;
  }

  /** Hooks the registry and the member events, and answers through the delegate; call before ml.start()/join(). */
  start(): void {
    this.running = true;
    this.ml.on('join', this.onJoin);
    this.ml.on('alive', this.onUp);
    this.ml.on('dead', this.onDead);
    this.ml.on('leave', this.onLeave);
    this.announce(START_KEY, null);
    this.publish(this.local.start());
    const every = this.opts.syncIntervalMs ?? 5000;
    const round = (): void => {
      this.syncRound();
      this.syncTimer = setTimeout(round, every * (0.5 + Math.random())).unref();
    };
    this.syncTimer = setTimeout(round, every * Math.random()).unref();
  }

  stop(): void {
    this.running = false;
    this.local.stop();
    this.links.stop();
    this.ml.off('join', this.onJoin);
    this.ml.off('alive', this.onUp);
    this.ml.off('dead', this.onDead);
    this.ml.off('leave', this.onLeave);
    for (const t of [...this.held.values(), ...this.stale.values(), this.applyTimer, this.syncTimer]) clearTimeout(t);
    this.held.clear();
    this.stale.clear();
    this.dirty.clear();
  }

  /**
   * Tells the cluster that what this node registers now is complete (its
   * sources have loaded): peers drop what we had before our @start.
   */
  markSynced(): void {
    let count = 0;
    for (const key of this.store.entries(this.self).keys()) if (!isMarker(key)) count++;
    this.announce(SYNCED_KEY, null, count);
  }

  /** Live podswarm-dns members other than this node: the only ones sent anything. */
  peers(): NodeInfo[] {
    return this.ml.liveMembers().filter((m) => this.isPeer(m));
  }

  private isPeer(n: NodeInfo): boolean {
    return n.name !== this.self && n.tags.role === PODSWARM_ROLE && (n.status === 'alive' || n.status === 'suspect');
  }

  /** Versions are wall-clock based and monotonic, so a restarted owner still wins over its old entries. */
  private nextVersion(): number {
    this.lastVersion = Math.max(Date.now(), this.lastVersion + 1);
    return this.lastVersion;
  }

  // ------------------------------------------------------------ what we own

  private publish(changes: LocalChange[]): void {
    const out: CheckedEntry[] = [];
    for (const { key, value } of changes) out.push(this.own(key, value));
    this.sendToPeers(out);
  }

  private announce(key: string, value: Value | null, count?: number): void {
    this.sendToPeers([this.own(key, value, count)]);
  }

  private own(key: string, value: Value | null, count?: number): CheckedEntry {
    const entry: Entry = count === undefined ? [this.nextVersion(), value] : [this.nextVersion(), null, count];
    this.store.set(this.self, key, entry);
    return { owner: this.self, key, entry };
  }

  private sendToPeers(entries: CheckedEntry[]): void {
    if (entries.length === 0 || !this.running) return;
    for (const p of this.peers()) this.links.queueEntries(p.name, entries);
  }

  /**
   * A peer holds entries of ours newer than any we know (we restarted with a
   * clock behind theirs): start a new epoch above them, so ours win again.
   */
  private reassert(version: number): void {
    this.lastVersion = Math.max(this.lastVersion, version);
    const entries = [this.own(START_KEY, null)];
    for (const [key, value] of this.local.current()) entries.push(this.own(key, value));
    this.sendToPeers(entries);
    this.markSynced();
  }

  // ----------------------------------------------------------- the network

  private async sendTo(peer: string, msg: Buffer): Promise<void> {
    const m = this.ml.member(peer);
    if (!m || !this.isPeer(m)) throw new Error(`${peer} is not a live podswarm-dns member`);
    const kind = KIND[msg[0]!] ?? 'entries';
    this.sent[kind].messages++;
    this.sent[kind].bytes += msg.length;
    if (msg[0] !== FORMAT_ENTRIES && msg.length <= PACKET_BYTES) await this.ml.sendBestEffort(m.addr, m.port, msg);
    else await this.ml.sendReliable(m.addr, m.port, msg);
  }

  /** What replication has sent so far, by kind (for metrics): messages and payload bytes. */
  sentTotals(): Readonly<Record<SentKind, { messages: number; bytes: number }>> {
    return this.sent;
  }

  private receive(msg: Buffer, from: string): void {
    if (!this.running || msg.length === 0) return;
    if (msg[0] === FORMAT_ENTRIES) {
      const { entries, rejected } = checkPayload(msg);
      this.merge(entries, rejected, from);
      return;
    }
    let control: ControlMessage;
    try {
      control = decodeControl(msg);
    } catch (err) {
      this.opts.onReject?.([{ reason: 'format', detail: `sync message: ${(err as Error).message}` }], from);
      return;
    }
    if (control.msg.from === this.self) return;
    this.onControl(control, true);
  }

  /**
   * A peer's offer can come before the news that it joined: its answer
   * would have nowhere to go, so it waits once for the member list to catch up.
   */
  private onControl(control: ControlMessage, first: boolean): void {
    if (!this.peers().some((p) => p.name === control.msg.from)) {
      if (first) setTimeout(() => this.running && this.onControl(control, false), UNKNOWN_PEER_WAIT_MS).unref();
      return;
    }
    if (control.kind === 'sum') this.onSum(control.msg);
    else this.onDigest(control.msg);
  }

  /** One anti-entropy round: our sum to one random peer. */
  private syncRound(): void {
    const peers = this.peers();
    if (peers.length === 0) return;
    const peer = peers[Math.floor(Math.random() * peers.length)]!;
    const { hash, count } = this.store.root();
    this.links.queueControl(peer.name, encodeSum({ from: this.self, hash, count }));
  }

  /**
   * After a join: unless the seed was a podswarm-dns node that sent its
   * state, a join push/pull with one peer, so this node has the whole
   * registry before it says it is ready. Resolves either way; a failed
   * exchange falls back to asking the peer for everything.
   */
  async syncWithPeer(): Promise<void> {
    const peers = this.peers();
    if (this.gotState || peers.length === 0) return;
    const peer = peers[Math.floor(Math.random() * peers.length)]!;
    try {
      await this.ml.pushPull(peer.addr, peer.port);
    } catch (err) {
      this.opts.onSendError?.(peer.name, err as Error);
      this.askEverything(peer.name);
    }
  }

  /** Everything we hold, for a join push/pull; null past the payload limit (then anti-entropy sends it in chunks). */
  private wholeState(): Buffer | null {
    const all: CheckedEntry[] = [];
    for (const owner of this.store.ownerNames()) for (const [key, entry] of this.store.entries(owner)) all.push({ owner, key, entry });
    if (all.length * AVERAGE_ENTRY_BYTES > MAX_PAYLOAD_BYTES) return null;
    const buf = encodeEntries(all);
    return buf.length <= MAX_PAYLOAD_BYTES ? buf : null;
  }

  /** A peer came up: offer it the digest of what we own, so it asks for what it lacks. */
  private offerOwn(peer: string): void {
    this.links.queueControl(peer, encodeDigest({ from: this.self, owners: { [this.self]: this.store.digest(this.self) }, full: false, ask: true }));
  }

  private askEverything(peer: string): void {
    this.links.queueControl(peer, encodeDigest({ from: this.self, owners: this.store.digests(), full: true, ask: true }));
  }

  private onSum(m: SumMessage): void {
    const mine = this.store.root();
    if (mine.hash !== m.hash || mine.count !== m.count) this.askEverything(m.from);
  }

  /** Sends the peer what it lacks; when it asks, tells it which owners we lack, by our digest of them. */
  private onDigest(m: DigestMessage): void {
    const names = new Set(Object.keys(m.owners));
    if (m.full) for (const o of this.store.ownerNames()) names.add(o);
    const out: CheckedEntry[] = [];
    const wants: Record<string, OwnerDigest> = Object.create(null);
    for (const owner of names) {
      const theirs = m.owners[owner] ?? [0, 0, '0000000000000000'];
      const mine = this.store.digest(owner);
      if (sameDigest(theirs, mine)) continue;
      if (owner === this.self && theirs[0] > mine[0]) {
        this.reassert(theirs[0]);
        continue;
      }
      // Higher max: they lack at least what is newer. Equal max, other hash: each lacks something, send all.
      // Never an owner's own entries back to it: it knows them best.
      if (mine[0] >= theirs[0] && owner !== m.from)
        for (const [key, entry] of this.store.newerThan(owner, mine[0] > theirs[0] ? theirs[0] : 0)) out.push({ owner, key, entry });
      if (mine[0] <= theirs[0] && owner !== this.self) wants[owner] = mine;
    }
    if (out.length > 0) this.links.queueEntries(m.from, out);
    if (m.ask && Object.keys(wants).length > 0) this.links.queueControl(m.from, encodeDigest({ from: this.self, owners: wants, full: false, ask: false }));
  }

  /** Applies newer entries; our own entries are only ever written by us. */
  private merge(entries: CheckedEntry[], rejected: Rejection[], from: string): void {
    for (const { owner, key, entry } of entries) {
      if (owner === this.self) continue;
      const known = this.store.get(owner, key)?.[0] ?? -1;
      if (known >= entry[0] || entry[0] < (this.store.get(owner, START_KEY)?.[0] ?? -1)) continue;
      if (known === -1 && this.store.size(owner) >= MAX_ENTRIES_PER_OWNER) {
        rejected.push({ reason: 'count', owner, key, detail: `owner has ${MAX_ENTRIES_PER_OWNER} entries already` });
        continue;
      }
      this.store.set(owner, key, entry);
      this.dirty.add(owner);
    }
    if (rejected.length > 0) this.opts.onReject?.(rejected, from);
    if (this.dirty.size > 0) this.applyTimer ??= setTimeout(() => this.apply(), this.opts.applyDelayMs ?? 20);
  }

  /** Brings what was received into the registry, once per owner for everything gathered. */
  private apply(): void {
    this.applyTimer = undefined;
    const owners = [...this.dirty];
    this.dirty.clear();
    for (const owner of owners) {
      this.settle(owner);
      this.refreshOwner(owner);
    }
  }

  // ------------------------------------------------------- what is served

  /**
   * Drops an owner's entries from before its latest @start once they are
   * replaced: when it says it is synced and we hold as many new entries as
   * it has, at once if nobody was being served them anyway, else when the
   * resync time is up (an owner that never says it is synced).
   */
  private settle(owner: string): void {
    const known = this.store.entries(owner);
    const start = known.get(START_KEY)?.[0] ?? -1;
    const old: string[] = [];
    let fresh = 0;
    for (const [key, entry] of known) {
      if (isMarker(key)) continue;
      if (entry[0] < start) old.push(key);
      else fresh++;
    }
    const synced = known.get(SYNCED_KEY);
    const complete = synced !== undefined && synced[0] >= start && fresh >= (synced[2] ?? 0);
    if (old.length === 0 || complete || !this.served(owner) || this.returnedRecently(owner) || this.resyncMs === 0) {
      for (const key of old) this.store.delete(owner, key);
      this.clearStale(owner);
      if (old.length > 0) this.withdrawn.delete(owner);
      return;
    }
    if (this.stale.has(owner)) return;
    const timer = setTimeout(() => {
      this.stale.delete(owner);
      const s = this.store.get(owner, START_KEY)?.[0] ?? -1;
      for (const [key, entry] of [...this.store.entries(owner)]) if (!isMarker(key) && entry[0] < s) this.store.delete(owner, key);
      this.refreshOwner(owner);
    }, this.resyncMs);
    timer.unref();
    this.stale.set(owner, timer);
  }

  private clearStale(owner: string): void {
    clearTimeout(this.stale.get(owner));
    this.stale.delete(owner);
  }

  private returnedRecently(owner: string): boolean {
    if (!this.withdrawn.has(owner)) return false;
    const back = this.withdrawn.get(owner);
    return back === undefined || Date.now() - back < REJOIN_WINDOW_MS;
  }

  /** An owner stopped being alive: keep serving its entries for `keepMs`, or drop them now. */
  private down(owner: string, keepMs: number): void {
    if (owner === this.self) return;
    this.links.drop(owner);
    this.unhold(owner);
    if (keepMs > 0) {
      const timer = setTimeout(() => {
        this.held.delete(owner);
        this.refreshOwner(owner);
      }, keepMs);
      timer.unref();
      this.held.set(owner, timer);
    }
    this.refreshOwner(owner);
  }

  private unhold(owner: string): void {
    clearTimeout(this.held.get(owner));
    this.held.delete(owner);
  }

  private served(owner: string): boolean {
    if (this.held.has(owner)) return true;
    const status = this.ml.member(owner)?.status;
    return status === 'alive' || status === 'suspect';
  }

  /** Puts an owner's entries into the registry, or keeps them out while it is neither alive nor kept. */
  private refreshOwner(owner: string): void {
    if (owner === this.self) return;
    const source = sourceKey({ kind: 'gossip', detail: owner });
    if (!this.served(owner)) {
      this.withdrawn.set(owner, undefined);
      this.registry.removeSource(source);
      return;
    }
    if (this.withdrawn.has(owner) && this.withdrawn.get(owner) === undefined) this.withdrawn.set(owner, Date.now());
    const snap: SourceSnapshot = { services: [], endpoints: [] };
    for (const [, value] of this.store.entries(owner).values()) {
      const v = value as Value | null;
      if (v?.kind === 'endpoint') snap.endpoints.push(v.endpoint);
      else if (v?.kind === 'service') snap.services.push(v.service);
    }
    this.registry.setSource(source, snap);
  }
}
