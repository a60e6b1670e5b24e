// Per-query metrics without prom-client on the hot path. prom-client label
// children still hash and validate their labels on every inc/observe; here a
// series is bound once and updated with plain arithmetic, and prom-client's
// registry only formats the numbers when /metrics is scraped.

import type { Metric, Registry } from 'prom-client';

type Labels = Record<string, string>;

interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Labels) {}

  inc(): void {
    this.value++;
  }

  reset(): void {
    this.value = 0;
  }
}

export class HistogramSeries {
  /** Per-bucket counts (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/** The part prom-client's Registry reads from a metric: name, help, type and `get()`. */
abstract class Vec<S extends CounterSeries | HistogramSeries> {
  readonly aggregator = 'sum';
  private readonly series = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
  ) {}

  abstract readonly type: 'counter' | 'histogram';
  protected abstract create(labels: Labels): S;
  protected abstract samples(s: S, out: Sample[]): void;

  /** The series for these label values (in labelNames order), created once; keep it instead of asking again per query. */
  with(...values: string[]): S {
    const key = values.join('\0');
    let s = this.series.get(key);
    if (!s) {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      s = this.create(labels);
      this.series.set(key, s);
    }
    return s;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const s of this.series.values()) this.samples(s, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics() calls this; bound series stay bound. */
  reset(): void {
    for (const s of this.series.values()) s.reset();
  }

  registerIn(registry: Registry): this {
    // Registry only reads the members above; prom-client's types name its own classes.
    registry.registerMetric(this as unknown as Metric);
    return this;
  }
}

export class CounterVec extends Vec<CounterSeries> {
  readonly type = 'counter';

  protected create(labels: Labels): CounterSeries {
    return new CounterSeries(labels);
  }

  protected samples(s: CounterSeries, out: Sample[]): void {
    out.push({ metricName: this.name, labels: s.labels, value: s.value });
  }
}

export class HistogramVec extends Vec<HistogramSeries> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  protected create(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  protected samples(s: HistogramSeries, out: Sample[]): void {
    let acc = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      acc += s.counts[i]!;
      out.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le: i < this.bounds.length ? this.bounds[i]! : '+Inf' }, value: acc });
    }
    out.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
    out.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
  }
}
