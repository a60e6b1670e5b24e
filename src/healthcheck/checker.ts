// The owning node's health checks (seed: every 10 s; unhealthy after 30 s of
// continuous failure; one success makes it healthy again). Only endpoints of
// this node's own sources that declare a check are probed; the verdict goes
// into the registry, and gossip carries it to the other nodes.
//
// Each endpoint has its own schedule, as Kubernetes' probe workers do: the
// first check runs as soon as the endpoint appears (it is not served until
// that passes, unless it is declared `initially: healthy`), then one every
// interval after it. The served rule itself is src/healthcheck/served.ts.

import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../log.js';
import type { Registry } from '../registry/registry.js';
import type { Endpoint } from '../registry/types.js';
import { isOwnSource } from '../sources/source-id.js';
import { probe } from './probe.js';
import { served } from './served.js';
import { type CheckSettings, CheckState } from './verdict.js';

export type { CheckSettings } from './verdict.js';

export const SEED_SETTINGS: CheckSettings = { intervalMs: 10_000, thresholdMs: 30_000, timeoutMs: 2_000 };

interface Target {
  source: string;
  endpoint: Endpoint;
  state: CheckState;
  timer?: NodeJS.Timeout;
}

export class HealthChecker {
  /** `source|ns/svc/name` → its check state, for every checked endpoint of the local sources. */
  private readonly targets = new Map<string, Target>();
  private running = false;
  /** Set while this checker writes to the registry, whose events come back synchronously. */
  private applying = false;
  private readonly onSource = (source: string, services?: ReadonlySet<string>): void => {
    if (this.applying || !isOwnSource(source)) return;
    this.sync(source, services);
  };

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
    // 'source' comes synchronously with each change of a source, before DNS can
    // answer from it: a new checked endpoint is unserved before anyone sees it.
    this.registry.on('source', this.onSource);
    for (const source of this.registry.sourceIds()) this.onSource(source);
  }

  stop(): void {
    this.running = false;
    this.registry.off('source', this.onSource);
    for (const t of this.targets.values()) clearTimeout(t.timer);
    this.targets.clear();
  }

  /**
   * Follows `source`'s checked endpoints (in `services`, default all): new
   * ones are checked at once, gone ones forgotten, and each gets its served
   * state. Only the services a change touched are read, so a registration
   * costs its service, not the whole source.
   */
  private sync(source: string, services?: ReadonlySet<string>): void {
    const seen = new Set<string>();
    const endpoints = services
      ? [...services].flatMap((key) => [...this.registry.sourceService(source, key).endpoints])
      : this.registry.snapshot(source).endpoints;
    for (const e of endpoints) {
      if (!e.healthCheck) continue;
      const key = `${source}|${e.namespace}/${e.service}/${e.name}`;
      seen.add(key);
      let t = this.targets.get(key);
      // A changed check (or address) starts over, as a new endpoint.
      if (t && (t.endpoint.address !== e.address || !isDeepStrictEqual(t.endpoint.healthCheck, e.healthCheck))) {
        clearTimeout(t.timer);
        t = undefined;
      }
      if (!t) {
        t = { source, endpoint: e, state: new CheckState(Date.now()) };
        this.targets.set(key, t);
        this.schedule(key, t);
      }
      t.endpoint = e;
      this.apply(t, 'awaiting its first passing check');
    }
    const prefixes = services ? [...services].map((svc) => `${source}|${svc}/`) : [`${source}|`];
    for (const [key, t] of this.targets) {
      if (prefixes.some((p) => key.startsWith(p)) && !seen.has(key)) {
        clearTimeout(t.timer);
        this.targets.delete(key);
      }
    }
  }

  private schedule(key: string, t: Target): void {
    t.timer = setTimeout(() => void this.check(key, t), Math.max(0, t.state.dueAt - Date.now()));
  }

  private async check(key: string, t: Target): Promise<void> {
    const at = t.state.stamp(Date.now());
    const e = t.endpoint;
    const failure = await probe(e.address, e.healthCheck!, this.settings.timeoutMs).then(
      () => null,
      (err: Error) => err.message,
    );
    if (!this.running || this.targets.get(key) !== t) return;
    this.onResult(failure === null);
    if (failure !== null) this.log.debug(`${e.name}.${e.service}.${e.namespace} check failed: ${failure}`);
    const why = t.state.record(failure, at, this.settings);
    this.apply(t, why);
    this.schedule(key, t);
  }

  /** Writes the served state and the last result into the registry when either differs from what it holds. */
  private apply(t: Target, why: string | undefined): void {
    const e = t.endpoint;
    const healthy = served(e, t.state.verdict);
    const result = t.state.result;
    if (e.healthy === healthy && isDeepStrictEqual(e.lastCheck, result)) return;
    this.applying = true;
    try {
      // The result first (no log line: health is unchanged), then the verdict with its reason.
      if (result && !isDeepStrictEqual(e.lastCheck, result)) this.registry.upsertEndpoint(t.source, { ...e, lastCheck: result });
      this.registry.setHealthy(t.source, e.namespace, e.service, e.name, healthy, why);
      // What the registry now holds, for the next comparison (updatedAt aside).
      t.endpoint = { ...e, healthy, ...(result && { lastCheck: result }) };
    } finally {
      this.applying = false;
    }
  }
}
