// Writes this node's own registry entries to etcd under one lease that it
// keeps alive: when the node dies, etcd deletes its keys once the lease's
// TTL runs out, and every other node's watch sees them go. Writes are
// batched into transactions (etcd's default limit is 128 operations each)
// and retried until they land; a lost lease (etcd unreachable for longer
// than its TTL, or restarted without it) is granted again and every entry
// written again under it.

import type { Etcd3, IRequestOp, Lease } from 'etcd3';
import type { Logger } from '../log.js';
import type { LocalChange } from '../registry/local-changes.js';
import { type Layout, localEntry } from './layout.js';

/** Operations per transaction: etcd's default `--max-txn-ops`. */
const MAX_TXN_OPS = 128;
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5000;

export interface PublisherOptions {
  node: string;
  layout: Layout;
  leaseTtlSeconds: number;
  log: Logger;
}

export class EtcdPublisher {
  /** What etcd should hold for us: key → value. */
  private readonly desired = new Map<string, string>();
  /** Keys whose etcd value may differ from `desired` (absent there: to delete). */
  private readonly pending = new Set<string>();
  private lease: Lease | undefined;
  private flushing = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private regrantTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private _failure: string | undefined;

  constructor(
    private readonly client: Etcd3,
    private readonly opts: PublisherOptions,
  ) {}

  /** Why the last write or keepalive failed; undefined while they succeed. */
  get failure(): string | undefined {
    return this._failure;
  }

  /** Keys not yet written as they should be. */
  get pendingWrites(): number {
    return this.pending.size;
  }

  start(initial: LocalChange[]): void {
    this.apply(initial);
    this.grantLease();
  }

  apply(changes: LocalChange[]): void {
    for (const change of changes) {
      const { key, put } = localEntry(this.opts.layout, this.opts.node, change);
      if (put === undefined) this.desired.delete(key);
      else this.desired.set(key, put);
      this.pending.add(key);
    }
    this.flushSoon();
  }

  /**
   * Stops writing. The lease is left to expire rather than revoked, so a
   * restart within its TTL writes the same keys again with no gap in the
   * other nodes' answers; `revoke` takes our keys out at once instead.
   */
  async stop(revoke: boolean): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.regrantTimer);
    const lease = this.lease;
    this.lease = undefined;
    if (!lease) return;
    if (revoke) await lease.revoke().catch((err: Error) => this.opts.log.warn(`revoking the lease: ${err.message}`));
    else lease.release();
  }

  private grantLease(): void {
    if (this.stopped) return;
    const lease = this.client.lease(this.opts.leaseTtlSeconds);
    this.lease = lease;
    let granted = false;
    lease.grant().then(
      () => (granted = true),
      () => {},
    );
    lease.on('lost', (err) => {
      if (this.lease !== lease || this.stopped) return;
      this.fail(`lease lost: ${err.message}`);
      // Once per lease etcd had granted (a grant refused while etcd is down is no news).
      if (granted) this.opts.log.warn(`etcd: lease lost (${err.message}); every entry is written again under a new lease once etcd answers`);
      // Whatever etcd held under it is gone (or soon will be): all of it again, under a new one.
      for (const key of this.desired.keys()) this.pending.add(key);
      this.lease = undefined;
      this.regrantTimer = setTimeout(() => this.grantLease(), this.nextRetry());
    });
    // The library's typing says a response; what it emits is the error (lease.js handleKeepaliveError).
    lease.on('keepaliveFailed', (err) => this.fail(`keepalive: ${(err as unknown as Error).message}`));
    lease.on('keepaliveSucceeded', () => {
      if (this.pending.size === 0) this.succeed();
    });
    for (const key of this.desired.keys()) this.pending.add(key);
    this.flushSoon();
  }

  private flushSoon(): void {
    if (this.flushing || this.stopped || !this.lease || this.pending.size === 0) return;
    clearTimeout(this.retryTimer);
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.size > 0 && !this.stopped && this.lease) {
        const lease = this.lease;
        const id = await lease.grant();
        const batch = [...this.pending].slice(0, MAX_TXN_OPS);
        const ops: IRequestOp[] = batch.map((key) => {
          const value = this.desired.get(key);
          const k = Buffer.from(key);
          return value === undefined ? { request_delete_range: { key: k } } : { request_put: { key: k, value: Buffer.from(value), lease: id } };
        });
        // A value that changed again while the transaction ran stays pending.
        const sent = batch.map((key) => this.desired.get(key));
        await this.client.kv.txn({ success: ops });
        if (this.lease !== lease) continue;
        batch.forEach((key, i) => {
          if (this.desired.get(key) === sent[i]) this.pending.delete(key);
        });
        this.succeed();
      }
    } catch (err) {
      this.fail(`writing: ${(err as Error).message}`);
      if (!this.stopped) this.retryTimer = setTimeout(() => this.flushSoon(), this.nextRetry());
    } finally {
      this.flushing = false;
    }
  }

  private nextRetry(): number {
    const ms = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    return ms;
  }

  private fail(why: string): void {
    if (this._failure === undefined) this.opts.log.warn(`etcd: ${why}; keeps trying`);
    this._failure = why;
  }

  private succeed(): void {
    if (this._failure !== undefined) this.opts.log.info('etcd: writes and keepalives succeed again');
    this._failure = undefined;
    this.retryMs = RETRY_MIN_MS;
  }
}
