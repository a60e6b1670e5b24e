// Every other node's registry entries, followed from etcd into our registry
// (sources `etcd:<owner>`). Each prefix is read once, then watched from the
// revision after that read, so no change falls between the two; CoreDNS's
// etcd plugin reads per query instead, and etcd would be on the query path.
// Here answers come from the local view only: when etcd goes away the last
// known registry keeps serving, the watch resumes from the last revision it
// saw when etcd is back, and a watch etcd cancels (its revision compacted
// away) is replaced by a fresh read of the prefix. A watched change costs
// the registry one entry's work (its service's view rebuilt), never the
// owner's whole state: a burst of 1,000 registrations is 1,000 small steps.

import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { Rejection } from '../replication/validate.js';
import type { Logger } from '../log.js';
import type { Registry } from '../registry/registry.js';
import type { SourceSnapshot } from '../registry/types.js';
import { sourceKey, sourceKind } from '../sources/source-id.js';
import { type Layout, type RemoteEntry, readEntry } from './layout.js';

/** The registry source of what `owner` publishes in etcd. */
const ownerSource = (owner: string): string => sourceKey({ kind: 'etcd', detail: owner });

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5000;

export interface MirrorOptions {
  node: string;
  layout: Layout;
  log: Logger;
  /** Values that failed validation (dropped). */
  onReject: (rejected: Rejection[]) => void;
}

/** One followed prefix: its read, then its watch. */
interface Follow {
  prefix: string;
  watcher: Watcher | undefined;
  /** Read at least once (so its entries are in the registry). */
  synced: boolean;
  /** Watching now, with the stream up. */
  connected: boolean;
  retryMs: number;
  timer: NodeJS.Timeout | undefined;
  /** Why it is not connected, for the log and /ready. */
  failure: string | undefined;
}

export class EtcdMirror {
  /** etcd key → the entry it holds (other nodes' only). */
  private readonly entries = new Map<string, RemoteEntry>();
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly follows: Follow[];
  private stopped = false;
  private firstSync: (() => void) | undefined;
  /** Resolves once every prefix has been read once. */
  readonly synced: Promise<void>;

  constructor(
    private readonly client: Etcd3,
    private readonly registry: Registry,
    private readonly opts: MirrorOptions,
  ) {
    const { endpointsPrefix, servicesPrefix } = opts.layout;
    this.follows = [endpointsPrefix, servicesPrefix].map((prefix) => ({
      prefix,
      watcher: undefined,
      synced: false,
      connected: false,
      retryMs: RETRY_MIN_MS,
      timer: undefined,
      failure: 'not connected yet',
    }));
    this.synced = new Promise((resolve) => (this.firstSync = resolve));
  }

  /** Every prefix read once: the view is complete as of then. */
  get isSynced(): boolean {
    return this.follows.every((f) => f.synced);
  }

  /** Why the view may be behind etcd now; undefined while every watch is up. */
  get failure(): string | undefined {
    return this.follows.find((f) => !f.connected)?.failure;
  }

  /** Entries of other nodes in the view. */
  get size(): number {
    return this.entries.size;
  }

  start(): void {
    for (const f of this.follows) void this.follow(f);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const f of this.follows) {
      clearTimeout(f.timer);
      await f.watcher?.cancel().catch(() => {});
      f.watcher = undefined;
    }
    for (const source of this.registry.sourceIds()) if (sourceKind(source) === 'etcd') this.registry.removeSource(source);
  }

  /** Reads the prefix, then watches it from the next revision; on failure, again after a backoff. */
  private async follow(f: Follow): Promise<void> {
    try {
      const res = await this.client.getAll().prefix(f.prefix).exec();
      if (this.stopped) return;
      // One registry update per owner for the whole read, not one per key.
      const touched = new Set<string>();
      const present = new Set<string>();
      for (const kv of res.kvs) present.add(this.put(kv, touched));
      for (const key of [...this.entries.keys()]) if (key.startsWith(f.prefix) && !present.has(key)) this.remove(key, touched);
      for (const owner of touched) this.refresh(owner);
      const next = (BigInt(res.header.revision) + 1n).toString();
      const watcher = await this.client.watch().prefix(f.prefix).startRevision(next).create();
      if (this.stopped) {
        await watcher.cancel();
        return;
      }
      f.watcher = watcher;
      watcher.on('put', (kv) => void this.put(kv));
      watcher.on('delete', (kv) => this.remove(kv.key.toString()));
      watcher.on('disconnected', (err) => this.lost(f, `watch disconnected: ${err.message}`));
      watcher.on('connected', () => this.up(f));
      watcher.on('error', (err) => {
        // Always said: a cancelled watch (its revision compacted away) means a full read of the tree.
        // etcd 3.4 gives no reason for a compacted revision: the library's message is then just its prefix.
        const reason = err.message.replace(/^Watcher canceled:\s*/, '') || 'its revision compacted away';
        this.opts.log.warn(`etcd: etcd cancelled the watch of ${f.prefix} (${reason}); reading it again`);
        this.lost(f, `watch cancelled: ${err.message}`);
        void watcher.cancel().catch(() => {});
        if (f.watcher === watcher) f.watcher = undefined;
        this.retry(f);
      });
      f.synced = true;
      this.up(f);
      if (this.isSynced) this.firstSync?.();
    } catch (err) {
      this.lost(f, `reading ${f.prefix}: ${(err as Error).message}`);
      this.retry(f);
    }
  }

  private retry(f: Follow): void {
    if (this.stopped) return;
    f.timer = setTimeout(() => void this.follow(f), f.retryMs);
    f.retryMs = Math.min(f.retryMs * 2, RETRY_MAX_MS);
  }

  private up(f: Follow): void {
    if (!f.connected && f.synced && this.follows.every((g) => g === f || g.connected)) this.opts.log.info('etcd: following the registry');
    f.connected = true;
    f.failure = undefined;
    f.retryMs = RETRY_MIN_MS;
  }

  private lost(f: Follow, why: string): void {
    if (this.follows.every((g) => g.connected)) this.opts.log.warn(`etcd: ${why}; serving the last known registry`);
    f.connected = false;
    f.failure = why;
  }

  /**
   * Takes one key's value (or drops the key when the value is not valid);
   * returns the key. With `touched` (a read), the owners to refresh are
   * collected there; without (a watched change), the registry is updated now.
   */
  private put(kv: IKeyValue, touched?: Set<string>): string {
    const key = kv.key.toString();
    const entry = readEntry(this.opts.layout, key, kv.value.toString());
    if ('reason' in entry) {
      this.remove(key, touched);
      this.opts.onReject([entry]);
      return key;
    }
    // Our own keys, possibly from before a restart: our local sources serve what we own.
    if (entry.owner === this.opts.node) return key;
    this.entries.set(key, entry);
    let keys = this.byOwner.get(entry.owner);
    if (!keys) this.byOwner.set(entry.owner, (keys = new Set()));
    keys.add(key);
    if (touched) touched.add(entry.owner);
    else if (entry.value.kind === 'endpoint') this.registry.upsertEndpoint(ownerSource(entry.owner), entry.value.endpoint);
    else this.registry.upsertService(ownerSource(entry.owner), entry.value.service);
    return key;
  }

  private remove(key: string, touched?: Set<string>): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    const keys = this.byOwner.get(old.owner)!;
    keys.delete(key);
    if (keys.size === 0) this.byOwner.delete(old.owner);
    const source = ownerSource(old.owner);
    if (touched) touched.add(old.owner);
    else if (old.value.kind === 'endpoint')
      this.registry.removeEndpoint(source, old.value.endpoint.namespace, old.value.endpoint.service, old.value.endpoint.name);
    else this.registry.removeService(source, old.value.service.namespace, old.value.service.name);
  }

  /** Puts everything the owner has in etcd into its registry source at once. */
  private refresh(owner: string): void {
    const snap: SourceSnapshot = { services: [], endpoints: [] };
    for (const key of this.byOwner.get(owner) ?? []) {
      const { value } = this.entries.get(key)!;
      if (value.kind === 'endpoint') snap.endpoints.push(value.endpoint);
      else snap.services.push(value.service);
    }
    this.registry.setSource(ownerSource(owner), snap);
  }
}
