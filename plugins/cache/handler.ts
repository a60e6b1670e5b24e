// The cache handler (CoreDNS plugin/cache handler.go): answers from the
// store when it can, otherwise lets the next plugin answer and stores what
// it writes. A fresh hit is synchronous: one Map lookup, one buffer copy.

import type { App } from '../../src/app.js';
import { isSubdomain, matchZone, type Handler, type ResponseWriter, type Result } from '../../src/chain/plugin.js';
import { Rcode } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { WireError } from '../../src/dns/wire.js';
import type { Logger } from '../../src/log.js';
import { adjustAd, prepare, render, renderedLength, type Limits } from './message.js';
import { CacheMetrics, type BoundMetrics } from './metrics.js';
import { cacheVariant, type CacheStore, type Entry, type Kind } from './store.js';

export interface CacheOptions extends Limits {
  zones: string[];
  /** Prefetch popular entries: `amount` hits, no gap over `durationMs`, when `percentage`% of the TTL is left. 0 = off. */
  prefetch: { amount: number; durationMs: number; percentage: number };
  /** serve_stale: how long past expiry an entry may still be served (ms; 0 = off), and whether to ask first. */
  staleMs: number;
  verifyStale: boolean;
  /** `disable success|denial`: zones where that kind is not stored. */
  disabled: Record<Kind, string[]>;
  keepTtl: boolean;
}

export class CacheHandler implements Handler {
  readonly name = 'cache';
  private readonly metrics: CacheMetrics;
  private readonly log: Logger;

  constructor(
    private readonly opts: CacheOptions,
    private readonly store: CacheStore,
    private readonly next: Handler,
    private readonly app: App,
    private readonly now: () => number = Date.now,
  ) {
    this.metrics = new CacheMetrics(app, opts.zones.join(','));
    this.log = app.pluginLog('cache');
  }

  serveDNS(req: Request, w: ResponseWriter): Result {
    if (matchZone(req.qname, this.opts.zones) === undefined) return this.next.serveDNS(req, w);
    const m = this.metrics.for(req.server);
    m.requests.n++;
    const variant = cacheVariant(req);
    const e = this.store.get(req.qname, variant);
    if (e) {
      const now = this.now();
      const left = e.ttl - Math.floor((now - e.stored) / 1000);
      if (left > 0) {
        m.hits[e.kind].n++;
        w.write(render(e.msg, e.ttlOffsets, req, this.opts.keepTtl ? e.ttl : left, w.sendBuffer?.(renderedLength(e.msg, req))));
        if (this.shouldPrefetch(e, now, left)) this.refreshLater(req, e, m);
        return Rcode.NOERROR;
      }
      if (-left * 1000 < this.opts.staleMs) {
        m.hits[e.kind].n++;
        if (this.opts.verifyStale) return this.verifyStale(req, w, e, m);
        this.serveStale(req, w, e, m);
        this.refreshLater(req, e, m);
        return Rcode.NOERROR;
      }
      this.store.delete(e);
      m.entries[e.kind].set(this.store.size(e.kind));
    }
    m.misses.n++;
    return this.next.serveDNS(req, new CachingWriter(this, req, variant, w));
  }

  /** Watches the registry: any change drops every entry in a registry zone. Returns the unsubscribe. */
  watch(): () => void {
    const flush = (): void => {
      this.store.flushRegistry();
      for (const b of this.metrics.all()) {
        b.entries.success.set(this.store.size('success'));
        b.entries.denial.set(this.store.size('denial'));
      }
    };
    this.app.registry.on('change', flush);
    return () => this.app.registry.off('change', flush);
  }

  /**
   * Stores the reply `msg` to `req` when it is cacheable and returns what the
   * client gets: the reply with every TTL capped to the entry's (as CoreDNS does).
   */
  save(req: Request, msg: Buffer, variant: number, generation: number): Buffer {
    const m = this.metrics.for(req.server);
    let p;
    try {
      p = prepare(req, msg, this.opts);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      m.drops.n++;
      return msg;
    }
    if (p === 'mismatch') m.drops.n++;
    if (p === null || p === 'mismatch') return msg;

    const now = this.now();
    const existing = this.store.get(req.qname, variant);
    const inRegistry = this.inRegistryZone(req.qname);
    const skip =
      matchZone(req.qname, this.opts.disabled[p.kind]) !== undefined ||
      // The registry changed while this answer was being made: it may predate the change.
      (inRegistry && generation !== this.store.generation) ||
      // A SERVFAIL must not push out an answer that can still be served (fresh or stale).
      ((msg[3]! & 0xf) === Rcode.SERVFAIL && existing !== undefined && this.servable(existing, now));
    if (!skip) {
      const entry: Entry = {
        name: req.qname,
        variant,
        kind: p.kind,
        msg: p.stored,
        ttlOffsets: p.storedTtlOffsets,
        stored: now,
        ttl: p.ttl,
        hits: 0,
        last: 0,
        refreshing: false,
      };
      if (existing?.refreshing) {
        // A prefetch replaced the entry: keep its popularity (CoreDNS doPrefetch).
        entry.hits = existing.hits;
        entry.last = existing.last;
      }
      if (this.store.set(entry, inRegistry)) m.evictions[p.kind].n++;
      m.entries.success.set(this.store.size('success'));
      m.entries.denial.set(this.store.size('denial'));
    }
    const out = Buffer.from(msg);
    for (const off of p.originalTtlOffsets) out.writeUInt32BE(p.ttl, off);
    out.writeUInt16BE(adjustAd(out.readUInt16BE(2), req), 2);
    return out;
  }

  get generation(): number {
    return this.store.generation;
  }

  private inRegistryZone(qname: string): boolean {
    for (const z of this.app.registryZones) if (isSubdomain(qname, z)) return true;
    return false;
  }

  private servable(e: Entry, now: number): boolean {
    return (e.ttl - Math.floor((now - e.stored) / 1000)) * -1000 < this.opts.staleMs;
  }

  /** CoreDNS shouldPrefetch: popular (freq) and within the last `percentage`% of its TTL. */
  private shouldPrefetch(e: Entry, now: number, left: number): boolean {
    const p = this.opts.prefetch;
    if (p.amount <= 0) return false;
    e.hits = now - e.last > p.durationMs ? 1 : e.hits + 1;
    e.last = now;
    return !e.refreshing && e.hits >= p.amount && left <= Math.ceil((p.percentage / 100) * e.ttl);
  }

  private serveStale(req: Request, w: ResponseWriter, e: Entry, m: BoundMetrics): void {
    m.servedStale.n++;
    w.write(render(e.msg, e.ttlOffsets, req, 0, w.sendBuffer?.(renderedLength(e.msg, req))));
  }

  /** Refreshes `e` in the background, after the client's reply has gone out. */
  private refreshLater(req: Request, e: Entry, m: BoundMetrics): void {
    if (e.refreshing) return;
    e.refreshing = true;
    m.prefetch.n++;
    // The refresh runs after serveDNS has returned: the request must not lean on a listener's receive slot.
    req.keep();
    setImmediate(() => {
      const done = (): void => {
        e.refreshing = false;
      };
      const fail = (err: unknown): void => {
        done();
        this.log.warn(`refresh of ${req.qname} failed: ${(err as Error)?.message ?? String(err)}`);
      };
      try {
        const r = this.next.serveDNS(req, new CachingWriter(this, req, e.variant, null));
        if (typeof r === 'number') done();
        else r.then(done, fail);
      } catch (err) {
        fail(err);
      }
    });
  }

  /** serve_stale verify: ask the next plugin first; serve the stale entry only if it fails (RFC 8767). */
  private async verifyStale(req: Request, w: ResponseWriter, e: Entry, m: BoundMetrics): Promise<number> {
    const vw = new VerifyWriter(new CachingWriter(this, req, e.variant, w));
    try {
      const rcode = await this.next.serveDNS(req, vw);
      if (vw.written) return rcode;
    } catch (err) {
      this.log.warn(`verifying stale ${req.qname} failed: ${(err as Error)?.message ?? String(err)}`);
    }
    this.serveStale(req, w, e, m);
    return Rcode.NOERROR;
  }
}

/** Stores what the next plugin writes and passes it on (to nobody for a background refresh). */
class CachingWriter implements ResponseWriter {
  written = false;
  private readonly generation: number;

  constructor(
    private readonly cache: CacheHandler,
    private readonly req: Request,
    private readonly variant: number,
    private readonly client: ResponseWriter | null,
  ) {
    this.generation = cache.generation;
  }

  write(msg: Buffer): void {
    if (this.written) return;
    this.written = true;
    const out = this.cache.save(this.req, msg, this.variant, this.generation);
    this.client?.write(out);
  }
}

/** Lets only NOERROR and NXDOMAIN through (CoreDNS verifyStaleResponseWriter); anything else leaves the stale entry to be served. */
class VerifyWriter implements ResponseWriter {
  written = false;

  constructor(private readonly inner: ResponseWriter) {}

  write(msg: Buffer): void {
    if (this.written || msg.length < 4) return;
    const rcode = msg[3]! & 0xf;
    if (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN) return;
    this.written = true;
    this.inner.write(msg);
  }
}
