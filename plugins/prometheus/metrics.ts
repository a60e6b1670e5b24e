// The server's metrics under CoreDNS's names and labels (plugin/metrics/vars),
// created once per process. Per-query series are bound per server and zone
// and indexed by transport, family, qtype, rcode and writing plugin, so a
// query costs a few array (and one map) reads and additions.

import { collectDefaultMetrics, Counter, Gauge } from 'prom-client';
import type { App } from '../../src/app.js';
import { KeptForLife } from '../../src/chain/kept-across-reload.js';
import { rcodeName } from '../../src/dns/constants.js';
import { panicCount } from '../../src/metrics/panics.js';
import { VERSION } from '../../src/version.js';
import { CounterVec, HistogramVec, type CounterSeries, type HistogramSeries } from './vec.js';

/** plugin.TimeBuckets: ExponentialBuckets(0.00025, 2, 16). */
const TIME_BUCKETS = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);
const SIZE_BUCKETS = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];

/** The qtypes CoreDNS labels by name (vars/monitor.go); every other one is "other". */
const MONITORED: ReadonlyArray<[number, string]> = [
  [1, 'A'],
  [2, 'NS'],
  [5, 'CNAME'],
  [6, 'SOA'],
  [12, 'PTR'],
  [15, 'MX'],
  [16, 'TXT'],
  [28, 'AAAA'],
  [33, 'SRV'],
  [43, 'DS'],
  [46, 'RRSIG'],
  [47, 'NSEC'],
  [48, 'DNSKEY'],
  [50, 'NSEC3'],
  [64, 'SVCB'],
  [65, 'HTTPS'],
  [251, 'IXFR'],
  [252, 'AXFR'],
  [255, 'ANY'],
];
const TYPE_NAMES = [...MONITORED.map(([, n]) => n), 'other'];
const OTHER = TYPE_NAMES.length - 1;
const TYPE_INDEX = new Map(MONITORED.map(([t], i) => [t, i]));

export function typeIndex(qtype: number): number {
  return TYPE_INDEX.get(qtype) ?? OTHER;
}

const PROTOS = ['udp', 'tcp'] as const;
const FAMILIES = ['1', '2'] as const;
/** rcodes fit in 4 bits in the header; the server never passes extended ones through the chain. */
const RCODES = 16;
/** Views are not implemented; CoreDNS labels series without one with "". */
const VIEW = '';

/** Bound series for one server label and zone. Slots fill on first use. */
class ZoneSeries {
  private readonly requests: Array<CounterSeries | undefined> = [];
  private readonly durations: Array<HistogramSeries | undefined> = [];
  private readonly requestSizes: Array<HistogramSeries | undefined> = [];
  private readonly responseSizes: Array<HistogramSeries | undefined> = [];
  /** By the plugin that wrote the reply, then rcode. */
  private readonly responses = new Map<string, Array<CounterSeries | undefined>>();
  private doRequests: CounterSeries | undefined;

  constructor(
    private readonly m: DnsMetrics,
    private readonly server: string,
    private readonly zone: string,
  ) {}

  /** proto: 0 udp, 1 tcp; family: 0 IPv4, 1 IPv6; type from typeIndex(). */
  request(proto: number, family: number, type: number): CounterSeries {
    const i = (proto * 2 + family) * TYPE_NAMES.length + type;
    return (this.requests[i] ??= this.m.requests.with(this.server, this.zone, VIEW, PROTOS[proto]!, FAMILIES[family]!, TYPE_NAMES[type]!));
  }

  duration(type: number): HistogramSeries {
    return (this.durations[type] ??= this.m.duration.with(this.server, this.zone, VIEW, TYPE_NAMES[type]!));
  }

  requestSize(proto: number): HistogramSeries {
    return (this.requestSizes[proto] ??= this.m.requestSize.with(this.server, this.zone, VIEW, PROTOS[proto]!));
  }

  responseSize(proto: number): HistogramSeries {
    return (this.responseSizes[proto] ??= this.m.responseSize.with(this.server, this.zone, VIEW, PROTOS[proto]!));
  }

  /** `plugin`: the handler that wrote the reply, "" for the server. */
  response(rcode: number, plugin: string): CounterSeries {
    const i = rcode & (RCODES - 1);
    let byRcode = this.responses.get(plugin);
    if (!byRcode) this.responses.set(plugin, (byRcode = []));
    return (byRcode[i] ??= this.m.responses.with(this.server, this.zone, VIEW, rcodeName(i), plugin));
  }

  do(): CounterSeries {
    return (this.doRequests ??= this.m.doRequests.with(this.server, this.zone, VIEW));
  }
}

export class DnsMetrics {
  readonly requests: CounterVec;
  readonly duration: HistogramVec;
  readonly requestSize: HistogramVec;
  readonly responseSize: HistogramVec;
  readonly responses: CounterVec;
  readonly doRequests: CounterVec;
  readonly pluginEnabled: Gauge<string>;
  private readonly zones = new Map<string, Map<string, ZoneSeries>>();
  /** Configs currently enabling each plugin_enabled series: the new config starts before the old one stops. */
  private readonly enabledRefs = new Map<string, number>();

  constructor(app: App) {
    const r = app.metrics;
    const sz = ['server', 'zone', 'view', 'proto'];
    this.requests = new CounterVec('coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.', [
      'server',
      'zone',
      'view',
      'proto',
      'family',
      'type',
    ]).registerIn(r);
    this.duration = new HistogramVec(
      'coredns_dns_request_duration_seconds',
      'Histogram of the time (in seconds) each request took per zone.',
      ['server', 'zone', 'view', 'type'],
      TIME_BUCKETS,
    ).registerIn(r);
    this.requestSize = new HistogramVec('coredns_dns_request_size_bytes', 'Size of the request in bytes, per zone and protocol.', sz, SIZE_BUCKETS).registerIn(
      r,
    );
    this.responseSize = new HistogramVec('coredns_dns_response_size_bytes', 'Size of the returned response in bytes.', sz, SIZE_BUCKETS).registerIn(r);
    this.responses = new CounterVec('coredns_dns_responses_total', 'Counter of response status codes.', [
      'server',
      'zone',
      'view',
      'rcode',
      'plugin',
    ]).registerIn(r);
    this.doRequests = new CounterVec('coredns_dns_do_requests_total', 'Counter of DNS requests with DO bit set per zone.', [
      'server',
      'zone',
      'view',
    ]).registerIn(r);
    this.pluginEnabled = app.metric(
      'coredns_plugin_enabled',
      (registers) =>
        new Gauge({
          name: 'coredns_plugin_enabled',
          help: 'A metric that indicates whether a plugin is enabled on per server and zone basis.',
          labelNames: ['server', 'zone', 'view', 'name'],
          registers,
          aggregator: 'max',
        }),
    );
    processMetrics(app);
  }

  zone(server: string, zone: string): ZoneSeries {
    let byZone = this.zones.get(server);
    if (!byZone) {
      byZone = new Map();
      this.zones.set(server, byZone);
    }
    let z = byZone.get(zone);
    if (!z) {
      z = new ZoneSeries(this, server, zone);
      byZone.set(zone, z);
    }
    return z;
  }

  /** Marks plugins enabled for a config; the returned function undoes it when that config stops. */
  enable(server: string, zones: readonly string[], names: readonly string[]): () => void {
    const labels = zones.flatMap((zone) => names.map((name) => [server, zone, VIEW, name] as const));
    for (const l of labels) {
      const key = l.join('\0');
      this.enabledRefs.set(key, (this.enabledRefs.get(key) ?? 0) + 1);
      this.pluginEnabled.labels(...l).set(1);
    }
    return () => {
      for (const l of labels) {
        const key = l.join('\0');
        const n = (this.enabledRefs.get(key) ?? 1) - 1;
        if (n > 0) this.enabledRefs.set(key, n);
        else {
          this.enabledRefs.delete(key);
          this.pluginEnabled.remove(...l);
        }
      }
    };
  }
}

/** Process-wide metrics that are read, not counted, at scrape time. */
function processMetrics(app: App): void {
  const registers = [app.metrics];
  collectDefaultMetrics({ register: app.metrics });
  // With -workers every process reports these; 'max' keeps the merged value right (see workers.ts).
  new Gauge({
    name: 'coredns_build_info',
    help: "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.",
    labelNames: ['version', 'revision', 'goversion'],
    registers,
    aggregator: 'max',
  })
    .labels(VERSION, '', `node${process.versions.node}`)
    .set(1);
  new Counter({
    name: 'coredns_panics_total',
    help: 'A metrics that counts the number of panics.',
    registers,
    collect() {
      this.reset();
      this.inc(panicCount());
    },
  });
  new Counter({
    name: 'coredns_reload_failed_total',
    help: 'Counter of the number of failed reload attempts.',
    registers,
    aggregator: 'max',
    collect() {
      this.reset();
      this.inc(app.reloadFailures);
    },
  });
  new Gauge({
    name: 'podswarm_registry_endpoints',
    help: 'Endpoints in the service registry, by health.',
    labelNames: ['healthy'],
    registers,
    aggregator: 'max',
    collect() {
      let healthy = 0;
      let total = 0;
      for (const s of app.registry.services()) {
        healthy += s.healthy.length;
        total += s.endpoints.length;
      }
      this.labels('true').set(healthy);
      this.labels('false').set(total - healthy);
    },
  });
}

const kept = new KeptForLife<DnsMetrics>();

/** The process's DNS metrics, created (and registered) on first use. */
export function dnsMetrics(app: App): DnsMetrics {
  return kept.get(app, '', () => new DnsMetrics(app));
}
