// The owning node's health checks (seed: every 10 s; unhealthy after 30 s of
// continuous failure; one success makes it healthy again). Only endpoints of
// this node's own sources that declare a check are probed; the verdict goes
// into the registry, and gossip carries it to the other nodes.

import { GOSSIP_SOURCE_PREFIX } from '../gossip/replication.js';
import type { Logger } from '../log.js';
import type { Registry } from '../registry/registry.js';
import type { Endpoint } from '../registry/types.js';
import { probe } from './probe.js';

export interface CheckSettings {
  intervalMs: number;
  /** Continuous failure for this long marks an endpoint unhealthy. */
  thresholdMs: number;
  timeoutMs: number;
}

export const SEED_SETTINGS: CheckSettings = { intervalMs: 10_000, thresholdMs: 30_000, timeoutMs: 2_000 };

interface Target {
  source: string;
  endpoint: Endpoint;
}

export class HealthChecker {
  /** Endpoint key → when its current run of failures began. */
  private readonly failingSince = new Map<string, number>();
  /** Endpoint key → last verdict; re-applied when a source reloads its endpoints with their declared health. */
  private readonly verdicts = new Map<string, Target & { healthy: boolean }>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private reapplying = false;
  private readonly onChange = (): void => this.reapply();

  constructor(
    private readonly registry: Registry,
    public settings: CheckSettings,
    /** Each failed check, at DEBUG; verdicts are logged by the registry's change log, with `why`. */
    private readonly log: Pick<Logger, 'debug'>,
    private readonly onResult: (ok: boolean) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.registry.on('change', this.onChange);
    void this.tick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.registry.off('change', this.onChange);
  }

  private targets(): Map<string, Target> {
    const out = new Map<string, Target>();
    for (const source of this.registry.sourceIds()) {
      if (source.startsWith(GOSSIP_SOURCE_PREFIX)) continue;
      for (const e of this.registry.snapshot(source).endpoints) {
        if (e.healthCheck) out.set(`${source}|${e.namespace}/${e.service}/${e.name}`, { source, endpoint: e });
      }
    }
    return out;
  }

  private async tick(): Promise<void> {
    const started = Date.now();
    const targets = this.targets();
    const { timeoutMs } = this.settings;
    const results = await Promise.all(
      [...targets.values()].map((t) => probe(t.endpoint.address, t.endpoint.healthCheck!, timeoutMs).then(() => null, (err: Error) => err.message)),
    );
    if (!this.running) return;
    [...targets].forEach(([key, t], i) => this.record(key, t, results[i]!, started));
    for (const key of this.failingSince.keys()) if (!targets.has(key)) this.failingSince.delete(key);
    for (const key of this.verdicts.keys()) if (!targets.has(key)) this.verdicts.delete(key);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, started + this.settings.intervalMs - Date.now()));
  }

  private record(key: string, t: Target, failure: string | null, at: number): void {
    this.onResult(failure === null);
    if (failure === null) {
      this.failingSince.delete(key);
      this.apply(key, t, true, 'check passed');
      return;
    }
    const since = this.failingSince.get(key) ?? at;
    this.failingSince.set(key, since);
    this.log.debug(`${t.endpoint.name}.${t.endpoint.service}.${t.endpoint.namespace} check failed: ${failure}`);
    if (at - since >= this.settings.thresholdMs) this.apply(key, t, false, `failing for ${(at - since) / 1000}s: ${failure}`);
  }

  private apply(key: string, t: Target, healthy: boolean, why: string): void {
    this.verdicts.set(key, { ...t, healthy });
    const e = t.endpoint;
    this.registry.setHealthy(t.source, e.namespace, e.service, e.name, healthy, why);
  }

  private reapply(): void {
    if (this.reapplying) return;
    this.reapplying = true;
    try {
      for (const { source, endpoint: e, healthy } of this.verdicts.values()) this.registry.setHealthy(source, e.namespace, e.service, e.name, healthy);
    } finally {
      this.reapplying = false;
    }
  }
}
