// Keeps the registry in step with the labelled containers of the local
// Podman, as the shared watcher (watcher.ts) reports them: each listing
// replaces the source's endpoints wholesale, events add and remove them.
// While the socket is lost the known endpoints keep serving.

import type { App } from '../../app.js';
import type { Share } from '../../chain/kept-across-reload.js';
import type { Logger } from '../../log.js';
import type { Registry } from '../../registry/registry.js';
import { dashedAddress } from '../../registry/names.js';
import type { Endpoint } from '../../registry/types.js';
import { claimSource } from '../source-claims.js';
import { sourceKey } from '../source-id.js';
import { containerEndpoints } from './endpoints.js';
import { parseLabels } from './labels.js';
import type { ContainerInspect } from './libpod.js';
import { HEALTH_STATUS, NETWORKS_CHANGED, STARTED, STOPPED } from './events.js';
import { hasPodmanHealthcheck } from './health.js';
import { watchPodman, type PodmanSubscriber } from './watcher.js';

export interface PodmanSourceOptions {
  socketPath: string;
  /** Only addresses on these networks are registered; empty means all. */
  networks: string[];
  nodeName: string;
  log: Logger;
}

export class PodmanSource implements PodmanSubscriber {
  readonly id: string;
  /** True once the first full sync has been applied. */
  synced = false;
  private readonly byContainer = new Map<string, Endpoint[]>();
  private readonly registry: Registry;
  /** The source key, shared with the previous config's PodmanSource of the socket during a reload: only the newest writes. */
  private claim: Share<string> | undefined;
  private unwatch: (() => Promise<void>) | undefined;

  constructor(
    private readonly app: App,
    private readonly opts: PodmanSourceOptions,
  ) {
    this.id = sourceKey({ kind: 'podman', detail: opts.socketPath });
    this.registry = app.registry;
  }

  /** Takes the source key over (an older instance stops writing) and starts following Podman. */
  async start(): Promise<void> {
    this.claim = await claimSource(this.app, this.id);
    this.unwatch = await watchPodman(this.app, this.opts.socketPath, this);
  }

  /** Stops following; the entries leave the registry unless another instance still holds the key. */
  async stop(): Promise<void> {
    await this.unwatch?.();
    await this.claim?.release();
  }

  private owner(): boolean {
    return this.claim?.newest ?? false;
  }

  onSync(containers: ReadonlyMap<string, ContainerInspect>): void {
    if (!this.owner()) return;
    this.byContainer.clear();
    for (const [id, c] of containers) {
      const eps = this.endpointsOf(c);
      if (eps.length > 0) this.byContainer.set(id, eps);
    }
    this.registry.setSource(this.id, { services: [], endpoints: [...this.byContainer.values()].flat() });
    this.synced = true;
    this.opts.log.info(`synced ${this.byContainer.size} labelled container(s) from ${this.opts.socketPath}`);
  }

  onEvent(action: string, id: string, c: ContainerInspect | undefined): void {
    if (!this.owner()) return;
    if ((action === HEALTH_STATUS || action === NETWORKS_CHANGED) && c) {
      this.replace(id, c, action === HEALTH_STATUS ? `podman healthcheck: ${c.State.Health?.Status}` : undefined);
      return;
    }
    // A paused container answers nothing, so it leaves like a stopped one; exec, health_status and the rest change nothing.
    const started = STARTED.has(action);
    if (!started && !STOPPED.has(action) && action !== 'pause') return;
    this.drop(id);
    if (!started || !c) return;
    const eps = this.endpointsOf(c);
    if (eps.length === 0) return;
    this.byContainer.set(id, eps);
    for (const e of eps) this.registry.upsertEndpoint(this.id, e);
  }

  onLost(err: Error, retryMs: number): void {
    const known = [...this.byContainer.values()].reduce((n, eps) => n + eps.length, 0);
    this.opts.log.warn(`podman socket ${this.opts.socketPath}: ${err.message}; keeping ${known} known endpoint(s), retrying in ${retryMs / 1000}s`);
  }

  /**
   * The container's endpoints again, from a fresh inspection: ones that stay
   * are updated in place (no removal and registration between), so a health
   * change is one logged line with `why`.
   */
  private replace(id: string, c: ContainerInspect, why: string | undefined): void {
    const old = new Map((this.byContainer.get(id) ?? []).map((e) => [e.name, e]));
    const eps = this.endpointsOf(c);
    const names = new Set(eps.map((e) => e.name));
    for (const e of old.values()) if (!names.has(e.name)) this.registry.removeEndpoint(this.id, e.namespace, e.service, e.name);
    if (eps.length > 0) this.byContainer.set(id, eps);
    else this.byContainer.delete(id);
    for (const e of eps) {
      const prev = old.get(e.name);
      if (!prev || prev.healthy === e.healthy || prev.address !== e.address) {
        this.registry.upsertEndpoint(this.id, e);
        continue;
      }
      this.registry.upsertEndpoint(this.id, { ...e, healthy: prev.healthy });
      this.registry.setHealthy(this.id, e.namespace, e.service, e.name, e.healthy, why);
    }
  }

  private drop(id: string): void {
    const eps = this.byContainer.get(id);
    if (!eps) return;
    this.byContainer.delete(id);
    for (const e of eps) this.registry.removeEndpoint(this.id, e.namespace, e.service, e.name);
  }

  /** The container's endpoints, or none when it is stopped, unlabelled or badly labelled (logged). */
  private endpointsOf(c: ContainerInspect): Endpoint[] {
    if (!c.State.Running) return [];
    let labels;
    try {
      labels = parseLabels(c.Config.Labels, hasPodmanHealthcheck(c));
    } catch (err) {
      this.opts.log.warn(`container ${c.Name}: ignored, ${(err as Error).message}`);
      return [];
    }
    if (!labels) return [];
    const eps = containerEndpoints(c, labels, this.opts.networks, this.opts.nodeName);
    if (eps.length === 0)
      this.opts.log.warn(`container ${c.Name}: no address on ${this.opts.networks.length > 0 ? `networks ${this.opts.networks.join(', ')}` : 'any network'}`);
    // Two containers whose names sanitize alike must not overwrite each other.
    const taken = new Set(
      [...this.byContainer].filter(([other]) => other !== c.Id).flatMap(([, list]) => list.map((e) => `${e.namespace}/${e.service}/${e.name}`)),
    );
    return eps.map((e) => (taken.has(`${e.namespace}/${e.service}/${e.name}`) ? { ...e, name: dashedAddress(e.address) } : e));
  }
}
