// The cache's Prometheus metrics (CoreDNS plugin/cache/metrics.go names and
// labels). prom-client hashes the label set on every inc(), too slow for a
// hit, so the hot path bumps plain numbers ("cells") that are added to the
// counters when the registry is scraped.

import { Counter, Gauge, type CounterConfiguration } from 'prom-client';
import type { App } from '../../src/app.js';
import type { Kind } from './store.js';

const SUBSYSTEM = 'coredns_cache';

/** A count not yet added to its counter. */
export interface Cell {
  n: number;
}

interface PendingCell extends Cell {
  labels: Record<string, string>;
}

/**
 * A counter with its cells by label values, added to it when it is scraped.
 * One per name for the life of the process (app.metric), so every cache
 * instance and every reload counts into the same cells.
 */
class CellCounter extends Counter<string> {
  readonly cells = new Map<string, PendingCell>();

  constructor(configuration: Omit<CounterConfiguration<string>, 'collect'>) {
    super({
      ...configuration,
      collect() {
        (this as CellCounter).flush();
      },
    });
  }

  cell(labels: Record<string, string>): Cell {
    const key = Object.values(labels).join('\0');
    let c = this.cells.get(key);
    if (!c) this.cells.set(key, (c = { n: 0, labels }));
    return c;
  }

  private flush(): void {
    for (const cell of this.cells.values()) {
      if (cell.n > 0) this.inc(cell.labels, cell.n);
      cell.n = 0;
    }
  }
}

export interface BoundMetrics {
  requests: Cell;
  misses: Cell;
  prefetch: Cell;
  servedStale: Cell;
  drops: Cell;
  hits: Record<Kind, Cell>;
  evictions: Record<Kind, Cell>;
  entries: Record<Kind, Gauge.Internal<string>>;
}

type CounterName = 'requests' | 'misses' | 'prefetch' | 'servedStale' | 'drops' | 'hits' | 'evictions';

const COUNTERS: Record<CounterName, [name: string, help: string, typed: boolean]> = {
  requests: ['requests_total', 'The count of cache requests.', false],
  misses: ['misses_total', 'The count of cache misses. Deprecated, derive misses from cache hits/requests counters.', false],
  prefetch: ['prefetch_total', 'The number of times the cache has prefetched a cached item.', false],
  servedStale: ['served_stale_total', 'The number of requests served from stale cache entries.', false],
  drops: ['drops_total', 'The number responses that are not cached, because the reply is malformed.', false],
  hits: ['hits_total', 'The count of cache hits.', true],
  evictions: ['evictions_total', 'The count of cache evictions.', true],
};

export class CacheMetrics {
  private readonly bound = new Map<string, BoundMetrics>();
  private readonly entries: Gauge<string>;
  private readonly counters: Record<CounterName, CellCounter>;

  constructor(
    app: App,
    /** The cache's zones, comma-joined, as CoreDNS labels them. */
    private readonly zones: string,
    private readonly view = '',
  ) {
    const typed = ['server', 'type', 'zones', 'view'];
    const untyped = ['server', 'zones', 'view'];
    this.entries = app.metric(
      `${SUBSYSTEM}_entries`,
      (registers) => new Gauge({ name: `${SUBSYSTEM}_entries`, help: 'The number of elements in the cache.', labelNames: typed, registers }),
    );
    const make = ([name, help, isTyped]: [string, string, boolean]): CellCounter =>
      app.metric(
        `${SUBSYSTEM}_${name}`,
        (registers) => new CellCounter({ name: `${SUBSYSTEM}_${name}`, help, labelNames: isTyped ? typed : untyped, registers }),
      );
    this.counters = Object.fromEntries(Object.entries(COUNTERS).map(([k, spec]) => [k, make(spec)])) as Record<CounterName, CellCounter>;
  }

  /** Every bound set so far (to refresh the entries gauge after a flush). */
  all(): IterableIterator<BoundMetrics> {
    return this.bound.values();
  }

  /** The cells and gauge children for one server label ("dns://:53"). */
  for(server: string): BoundMetrics {
    let b = this.bound.get(server);
    if (!b) {
      const cell = (name: CounterName, type?: Kind): Cell =>
        this.counters[name].cell(type ? { server, type, zones: this.zones, view: this.view } : { server, zones: this.zones, view: this.view });
      const gauge = (type: Kind) => this.entries.labels({ server, type, zones: this.zones, view: this.view });
      b = {
        requests: cell('requests'),
        misses: cell('misses'),
        prefetch: cell('prefetch'),
        servedStale: cell('servedStale'),
        drops: cell('drops'),
        hits: { success: cell('hits', 'success'), denial: cell('hits', 'denial') },
        evictions: { success: cell('evictions', 'success'), denial: cell('evictions', 'denial') },
        entries: { success: gauge('success'), denial: gauge('denial') },
      };
      this.bound.set(server, b);
    }
    return b;
  }
}
