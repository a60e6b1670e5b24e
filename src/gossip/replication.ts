// Registry replication over gossip. Each endpoint/service is owned by the node
// that registered it; entries carry (owner, version) and the newest version
// wins, deletions travel as tombstones. Changes go out as user broadcasts,
// the full state in every push/pull. Every payload is checked first
// (validate.ts): only entries that pass are stored, served or passed on.
//
// When an owner is not alive, its entries stay served for keepDepartedMs
// after it left gracefully and keepDeadMs after it was declared dead (a
// restart of podswarm-dns does not stop the containers behind them), then
// leave the registry until it is alive again. A restarted owner announces
// @start, its entries again, then @synced with how many it has: what it had
// before @start is served until the new entries are all in, then dropped,
// so what disappeared during the restart goes without a gap in the rest.
import type { Registry } from '../registry/registry.js';
import type { Endpoint, Service, SourceSnapshot } from '../registry/types.js';
import type { Memberlist, NodeInfo } from './memberlist.js';
import {
  type CheckedEntry,
  type Entry,
  MAX_ENTRIES_PER_OWNER,
  type Rejection,
  START_KEY,
  SYNCED_KEY,
  checkPayload,
  encodePayload,
} from './validate.js';

/** Registry source id prefix for what remote owners contribute. */
export const GOSSIP_SOURCE_PREFIX = 'gossip:';
/**
 * An owner whose entries we had withdrawn and that is back since less than
 * this: a new @start from it is a restart after a failure, and replaces its
 * old entries at once instead of keeping them until @synced.
 */
const REJOIN_WINDOW_MS = 10_000;

type Value = { kind: 'endpoint'; endpoint: Endpoint } | { kind: 'service'; service: Service };

export interface ReplicatorOptions {
  /** Which registry sources are ours to publish; default: every source not from gossip. */
  isLocalSource?: (source: string) => boolean;
  /** How long a gracefully departed owner's entries stay served; default 0 (dropped at once). */
  keepDepartedMs?: number;
  /** How long a dead owner's entries stay served as last known good; default 0 (dropped at once). */
  keepDeadMs?: number;
  /** Entries refused by validation, with the address of the node that sent them. */
  onReject?: (rejected: Rejection[], from: string) => void;
}

const isMarker = (key: string): boolean => key === START_KEY || key === SYNCED_KEY;

export class RegistryReplicator {
  /** owner -> key -> entry */
  private readonly state = new Map<string, Map<string, Entry>>();
  private published = new Map<string, string>();
  private lastVersion = 0;
  private readonly isLocal: (source: string) => boolean;
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
  private readonly onChange = (): void => this.publishLocal();
  private readonly onUp = (n: NodeInfo): void => {
    this.unhold(n.name);
    this.refreshOwner(n.name);
  };
  private readonly onLeave = (n: NodeInfo): void => this.down(n.name, this.keepDepartedMs);
  private readonly onDead = (n: NodeInfo): void => this.down(n.name, this.keepDeadMs);

  constructor(
    private readonly ml: Memberlist,
    private readonly registry: Registry,
    private readonly opts: ReplicatorOptions = {},
  ) {
    this.isLocal = opts.isLocalSource ?? ((s) => !s.startsWith(GOSSIP_SOURCE_PREFIX));
    this.keepDepartedMs = opts.keepDepartedMs ?? 0;
    this.keepDeadMs = opts.keepDeadMs ?? 0;
    this.resyncMs = Math.max(this.keepDepartedMs, this.keepDeadMs);
  }

  /** Hooks the registry and the memberlist delegate; call before ml.start()/join(). */
  start(): void {
    this.ml.setDelegate({
      onUserMessage: (msg, from) => this.merge(msg, from),
      localState: () => this.encodeState(),
      mergeRemoteState: (buf, _join, from) => this.merge(buf, from),
    });
    this.registry.on('change', this.onChange);
    this.ml.on('join', this.onUp);
    this.ml.on('alive', this.onUp);
    this.ml.on('dead', this.onDead);
    this.ml.on('leave', this.onLeave);
    this.announce(START_KEY, null);
    this.publishLocal();
  }

  stop(): void {
    this.registry.off('change', this.onChange);
    this.ml.off('join', this.onUp);
    this.ml.off('alive', this.onUp);
    this.ml.off('dead', this.onDead);
    this.ml.off('leave', this.onLeave);
    this.ml.setDelegate({});
    for (const t of [...this.held.values(), ...this.stale.values()]) clearTimeout(t);
    this.held.clear();
    this.stale.clear();
  }

  /**
   * Tells the cluster that what this node registers now is complete (its
   * sources have loaded): peers drop what we had before our @start.
   */
  markSynced(): void {
    const mine = this.owned(this.ml.config.name);
    let count = 0;
    for (const key of mine.keys()) if (!isMarker(key)) count++;
    this.announce(SYNCED_KEY, null, count);
  }

  /** Versions are wall-clock based and monotonic, so a restarted owner still wins over its old entries. */
  private nextVersion(): number {
    this.lastVersion = Math.max(Date.now(), this.lastVersion + 1);
    return this.lastVersion;
  }

  private owned(owner: string): Map<string, Entry> {
    let m = this.state.get(owner);
    if (!m) this.state.set(owner, (m = new Map()));
    return m;
  }

  /** Diffs our local sources against what we published and broadcasts the changes. */
  private publishLocal(): void {
    const current = new Map<string, Value>();
    for (const src of this.registry.sourceIds().filter(this.isLocal)) {
      const snap = this.registry.snapshot(src);
      for (const s of snap.services) current.set(`s:${s.namespace}/${s.name}`, { kind: 'service', service: s });
      for (const e of snap.endpoints) current.set(`e:${e.namespace}/${e.service}/${e.name}`, { kind: 'endpoint', endpoint: e });
    }
    const next = new Map<string, string>();
    for (const [key, value] of current) {
      const json = JSON.stringify(value);
      next.set(key, json);
      if (this.published.get(key) !== json) this.announce(key, value);
    }
    for (const key of this.published.keys()) if (!next.has(key)) this.announce(key, null);
    this.published = next;
  }

  private announce(key: string, value: Value | null, count?: number): void {
    const entry: Entry = count === undefined ? [this.nextVersion(), value] : [this.nextVersion(), null, count];
    const self = this.ml.config.name;
    this.owned(self).set(key, entry);
    this.ml.sendUserBroadcast(this.encode([{ owner: self, key, entry }]), `${self}/${key}`);
  }

  private encodeState(): Buffer {
    const out: CheckedEntry[] = [];
    for (const [owner, entries] of this.state) for (const [key, entry] of entries) out.push({ owner, key, entry });
    return this.encode(out);
  }

  /** Null-prototype objects: an owner named `__proto__` is a key like any other. */
  private encode(entries: CheckedEntry[]): Buffer {
    const state: Record<string, Record<string, Entry>> = Object.create(null);
    for (const { owner, key, entry } of entries) (state[owner] ??= Object.create(null) as Record<string, Entry>)[key] = entry;
    return encodePayload(state);
  }

  /**
   * Applies newer entries; our own entries are only ever written by us.
   * Entries that were news to us are broadcast on (as serf does with user
   * events), whether they came by broadcast or by push/pull: the owner's own
   * broadcast reaches only a few nodes, and a joining node's state reaches
   * the cluster through the push/pull with its seed. Waiting for periodic
   * push/pull instead took 27 s for 50 nodes joining at once (6 s now).
   */
  private merge(buf: Buffer, from: string): void {
    const { entries, rejected } = checkPayload(buf);
    const self = this.ml.config.name;
    const changed = new Set<string>();
    for (const { owner, key, entry } of entries) {
      if (owner === self) continue;
      const known = this.owned(owner);
      if ((known.get(key)?.[0] ?? -1) >= entry[0] || entry[0] < (known.get(START_KEY)?.[0] ?? -1)) continue;
      if (!known.has(key) && known.size >= MAX_ENTRIES_PER_OWNER) {
        rejected.push({ reason: 'count', owner, key, detail: `owner has ${MAX_ENTRIES_PER_OWNER} entries already` });
        continue;
      }
      known.set(key, entry);
      changed.add(owner);
      this.ml.sendUserBroadcast(this.encode([{ owner, key, entry }]), `${owner}/${key}`);
    }
    if (rejected.length > 0) this.opts.onReject?.(rejected, from);
    for (const owner of changed) {
      this.settle(owner);
      this.refreshOwner(owner);
    }
  }

  /**
   * Drops an owner's entries from before its latest @start once they are
   * replaced: when it says it is synced and we hold as many new entries as
   * it has, at once if nobody was being served them anyway, else when the
   * resync time is up (an owner that never says it is synced).
   */
  private settle(owner: string): void {
    const known = this.owned(owner);
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
      for (const key of old) known.delete(key);
      this.clearStale(owner);
      if (old.length > 0) this.withdrawn.delete(owner);
      return;
    }
    if (this.stale.has(owner)) return;
    const timer = setTimeout(() => {
      this.stale.delete(owner);
      const cur = this.owned(owner);
      const s = cur.get(START_KEY)?.[0] ?? -1;
      for (const [key, entry] of cur) if (!isMarker(key) && entry[0] < s) cur.delete(key);
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
    if (owner === this.ml.config.name) return;
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
    const status = this.ml.members().find((m) => m.name === owner)?.status;
    return status === 'alive' || status === 'suspect';
  }

  /** Puts an owner's entries into the registry, or keeps them out while it is neither alive nor kept. */
  private refreshOwner(owner: string): void {
    if (owner === this.ml.config.name) return;
    const source = GOSSIP_SOURCE_PREFIX + owner;
    if (!this.served(owner)) {
      this.withdrawn.set(owner, undefined);
      this.registry.removeSource(source);
      return;
    }
    if (this.withdrawn.has(owner) && this.withdrawn.get(owner) === undefined) this.withdrawn.set(owner, Date.now());
    const snap: SourceSnapshot = { services: [], endpoints: [] };
    for (const [, value] of this.state.get(owner)?.values() ?? []) {
      const v = value as Value | null;
      if (v?.kind === 'endpoint') snap.endpoints.push(v.endpoint);
      else if (v?.kind === 'service') snap.services.push(v.service);
    }
    this.registry.setSource(source, snap);
  }
}
