// Process-wide state that outlives a Corefile reload: the registry, the
// logger, the metrics registry, readiness reporters and CLI options. How the
// process starts, reloads and stops is src/server/lifecycle.ts.

import { hostname } from 'node:os';
import { Registry as MetricsRegistry, type Metric, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { KeptForLife } from './chain/kept-across-reload.js';
import type { Logger } from './log.js';
import { Registry } from './registry/registry.js';
import type { UdpIoMode } from './server/udp-io.js';

export interface AppOptions {
  /** Corefile path (undefined when the embedded default is used). */
  corefile: string;
  /** `-dns.port`: overrides every server block's port. */
  portOverride?: number;
  /** `--upstream-dns` or `UPSTREAM_DNS`: overrides forward targets. */
  upstreams?: string[];
  quiet: boolean;
  /** This node's name in the cluster (gossip, endpoint ownership). */
  nodeName: string;
  /** `-state DIR` (or `off`): where the API's registrations persist; beats the api plugin's `state`. */
  stateDir?: string;
  /**
   * Unset: one process does everything. With `-workers N`: the 'primary'
   * runs the control plugins and owns the registry, 'worker's serve DNS
   * from a mirror of it.
   */
  role?: 'primary' | 'worker';
  /** `-udp.io` or `PODSWARM_UDP_IO`: the UDP listeners' I/O path (default auto). */
  udpIo?: UdpIoMode;
}

const METRICS = new KeptForLife<Metric>();

export class App {
  readonly registry = new Registry();
  readonly metrics = new MetricsRegistry();
  /** Plugins that report readiness (CoreDNS `ready`): name → ready now? */
  readonly readiness = new Map<string, () => boolean>();
  /**
   * Plugins that can serve while something they depend on is gone (the etcd
   * backend serving its last known registry): name → why now, or undefined
   * while all is well. `/ready` stays 200 and says so.
   */
  readonly degradations = new Map<string, () => string | undefined>();
  /** Zones whose answers come from the registry (cluster, srv); caches drop them on registry changes. */
  readonly registryZones = new Set<string>();
  /** Refused reloads since start (coredns_reload_failed_total); counted by the lifecycle. */
  reloadFailures = 0;
  /** In a primary with workers: every worker's metrics, for /metrics to merge. */
  workerMetrics: (() => Promise<MetricObjectWithValues<MetricValue<string>>[][]>) | undefined;

  constructor(
    readonly options: AppOptions,
    readonly log: Logger,
  ) {}

  /** One metric per name for the life of the process, so reloads do not register twice. */
  metric<M extends Metric>(name: string, create: (registers: MetricsRegistry[]) => M): M {
    return METRICS.get(this, name, () => create([this.metrics])) as M;
  }

  /** A child logger that prefixes lines with `plugin/<name>:`. */
  pluginLog(name: string): Logger {
    return this.log.child({ plugin: name });
  }
}

export function defaultNodeName(): string {
  return hostname();
}
