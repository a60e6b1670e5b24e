// Keeps the registry in step with the labelled containers of the local
// Podman: a full sync when the socket connects, then the events stream.
// Losing the socket is never fatal: the known endpoints keep serving, the
// source retries with backoff, and the next sync replaces them wholesale.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../log.js';
import type { Registry } from '../../registry/registry.js';
import { dashedAddress } from '../../registry/names.js';
import type { Endpoint } from '../../registry/types.js';
import { containerEndpoints } from './endpoints.js';
import { LABEL_SERVICE, parseLabels } from './labels.js';
import { Libpod, type ContainerEvent } from './libpod.js';

export interface PodmanSourceOptions {
  socketPath: string;
  /** Only addresses on these networks are registered; empty means all. */
  networks: string[];
  nodeName: string;
  log: Logger;
}

const ADD = new Set(['start', 'unpause', 'restart']);
const REMOVE = new Set(['stop', 'died', 'die', 'remove', 'pause']);
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

/** Which PodmanSource feeds each source id, so a reload hands over without a gap. */
const owners = new WeakMap<Registry, Map<string, PodmanSource>>();

export class PodmanSource {
  readonly id: string;
  /** True once the first full sync has been applied. */
  synced = false;
  private readonly libpod: Libpod;
  private readonly stopping = new AbortController();
  private readonly byContainer = new Map<string, Endpoint[]>();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly opts: PodmanSourceOptions,
  ) {
    this.id = `podman:${opts.socketPath}`;
    this.libpod = new Libpod(opts.socketPath);
  }

  /** Takes the source id over (an older instance stops writing) and starts following Podman. */
  start(): void {
    let map = owners.get(this.registry);
    if (!map) owners.set(this.registry, (map = new Map()));
    map.set(this.id, this);
    this.loop = this.run();
  }

  /** Stops following; the entries leave the registry unless a newer instance took the id over. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.libpod.close();
    if (!this.owner()) return;
    owners.get(this.registry)!.delete(this.id);
    this.registry.removeSource(this.id);
  }

  private owner(): boolean {
    return owners.get(this.registry)?.get(this.id) === this;
  }

  private async run(): Promise<void> {
    const { log, socketPath } = this.opts;
    const signal = this.stopping.signal;
    let delay = FIRST_RETRY_MS;
    while (!signal.aborted) {
      let synced = false;
      try {
        await this.session(signal, () => {
          synced = true;
          delay = FIRST_RETRY_MS;
        });
        if (!signal.aborted) throw new Error('events stream ended');
      } catch (err) {
        if (signal.aborted) break;
        const known = [...this.byContainer.values()].reduce((n, eps) => n + eps.length, 0);
        log.warn(`podman socket ${socketPath}: ${(err as Error).message}; keeping ${known} known endpoint(s), retrying in ${delay / 1000}s`);
      }
      await sleep(delay, undefined, { signal }).catch(() => {});
      if (!synced) delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }

  /** Opens the event stream first so nothing between the listing and the stream is lost. */
  private async session(signal: AbortSignal, onSynced: () => void): Promise<void> {
    const events = await this.libpod.events(signal);
    const ids = await this.libpod.runningWithLabel(LABEL_SERVICE, signal);
    const next = new Map<string, Endpoint[]>();
    for (const id of ids) {
      const eps = await this.endpointsOf(id, signal, next);
      if (eps.length > 0) next.set(id, eps);
    }
    if (!this.owner()) return;
    this.byContainer.clear();
    for (const [id, eps] of next) this.byContainer.set(id, eps);
    this.registry.setSource(this.id, { services: [], endpoints: [...next.values()].flat() });
    this.synced = true;
    onSynced();
    this.opts.log.info(`synced ${next.size} labelled container(s) from ${this.opts.socketPath}`);
    for await (const ev of events) {
      if (!this.owner()) return;
      await this.apply(ev, signal);
    }
  }

  private async apply(ev: ContainerEvent, signal: AbortSignal): Promise<void> {
    if (ev.Type !== 'container') return;
    const id = ev.Actor.ID;
    if (REMOVE.has(ev.Action)) {
      this.drop(id);
    } else if (ADD.has(ev.Action) && (this.byContainer.has(id) || ev.Actor.Attributes?.[LABEL_SERVICE] !== undefined)) {
      const eps = await this.endpointsOf(id, signal, this.byContainer);
      this.drop(id);
      if (eps.length === 0) return;
      this.byContainer.set(id, eps);
      for (const e of eps) this.registry.upsertEndpoint(this.id, e);
    }
  }

  private drop(id: string): void {
    const eps = this.byContainer.get(id);
    if (!eps) return;
    this.byContainer.delete(id);
    for (const e of eps) this.registry.removeEndpoint(this.id, e.namespace, e.service, e.name);
  }

  /** The container's endpoints, or none when it is gone, stopped, unlabelled or badly labelled (logged). */
  private async endpointsOf(id: string, signal: AbortSignal, others: Map<string, Endpoint[]>): Promise<Endpoint[]> {
    const c = await this.libpod.inspect(id, signal);
    if (!c?.State.Running) return [];
    let labels;
    try {
      labels = parseLabels(c.Config.Labels);
    } catch (err) {
      this.opts.log.warn(`container ${c.Name}: ignored, ${(err as Error).message}`);
      return [];
    }
    if (!labels) return [];
    const eps = containerEndpoints(c, labels, this.opts.networks, this.opts.nodeName);
    if (eps.length === 0) this.opts.log.warn(`container ${c.Name}: no address on ${this.opts.networks.length > 0 ? `networks ${this.opts.networks.join(', ')}` : 'any network'}`);
    // Two containers whose names sanitize alike must not overwrite each other.
    const taken = new Set([...others].filter(([other]) => other !== id).flatMap(([, list]) => list.map((e) => `${e.namespace}/${e.service}/${e.name}`)));
    return eps.map((e) => (taken.has(`${e.namespace}/${e.service}/${e.name}`) ? { ...e, name: dashedAddress(e.address) } : e));
  }
}
