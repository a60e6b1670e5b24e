// A registry source from the Kubernetes YAML a node plays with `podman kube
// play`: each `kind: Service` becomes a service, and its endpoints are this
// node's running pods whose labels match the Service's selector (Podman puts
// a pod's labels on its containers). Kubernetes gives a Service a virtual IP;
// there is none here, so every Service is answered as a headless one: the
// pods' own addresses, per-pod names, SRV for the named ports. The files are
// re-read when they change; a file that breaks later is logged and the last
// good contents keep serving.

import { statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { App } from '../../app.js';
import type { Share } from '../../chain/kept-across-reload.js';
import type { Logger } from '../../log.js';
import { served } from '../../healthcheck/served.js';
import { dashedAddress, dnsSafe, isDnsLabel } from '../../registry/names.js';
import type { Endpoint, Service, ServicePort, SourceSnapshot } from '../../registry/types.js';
import { attachmentAddresses } from '../podman/endpoints.js';
import { HEALTH_STATUS, NETWORKS_CHANGED, STARTED, STOPPED } from '../podman/events.js';
import { podmanHealthOf } from '../podman/health.js';
import type { ContainerInspect } from '../podman/libpod.js';
import { watchPodman, type PodmanSubscriber } from '../podman/watcher.js';
import { claimSource } from '../source-claims.js';
import { sourceKey } from '../source-id.js';
import { loadManifests, selects, type KubePodPorts, type KubeService, type Manifests } from './manifests.js';

export interface KubeSourceOptions {
  /** Files and directories of kube YAML. */
  paths: string[];
  socketPath: string;
  nodeName: string;
  log: Logger;
}

export class KubeSource implements PodmanSubscriber {
  readonly id: string;
  synced = false;
  private manifests: Manifests;
  private readonly containers = new Map<string, ContainerInspect>();
  /** The source key, shared with the previous config's KubeSource of the same files during a reload: only the newest writes. */
  private claim: Share<string> | undefined;
  private unwatch: (() => Promise<void>) | undefined;
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  /** Reads the files at once: a bad one at start throws (the Corefile is refused). */
  constructor(
    private readonly app: App,
    private readonly opts: KubeSourceOptions,
  ) {
    this.id = sourceKey({ kind: 'kube', detail: opts.paths.join(',') });
    this.manifests = loadManifests(opts.paths);
  }

  async start(): Promise<void> {
    this.claim = await claimSource(this.app, this.id);
    // Directories themselves; for files their directory (editors replace files by rename).
    for (const p of this.opts.paths) {
      const dir = statSync(p).isDirectory() ? p : dirname(p);
      const w = watch(dir, () => {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.reread(), 50);
      });
      w.on('error', (err) => this.opts.log.error(`watching ${dir}: ${err.message}`));
      this.watchers.push(w);
    }
    this.publish();
    this.unwatch = await watchPodman(this.app, this.opts.socketPath, this);
  }

  /** Stops following; the entries leave the registry unless another instance still holds the key. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    await this.unwatch?.();
    await this.claim?.release();
  }

  onSync(containers: ReadonlyMap<string, ContainerInspect>): void {
    this.containers.clear();
    for (const [id, c] of containers) if (c.State.Running) this.containers.set(id, c);
    this.synced = true;
    this.publish();
  }

  onEvent(action: string, id: string, c: ContainerInspect | undefined): void {
    if ((STARTED.has(action) || action === HEALTH_STATUS || action === NETWORKS_CHANGED) && c?.State.Running) this.containers.set(id, c);
    else if (STOPPED.has(action) || action === 'pause') this.containers.delete(id);
    else return;
    this.publish();
  }

  onLost(err: Error, retryMs: number): void {
    this.opts.log.warn(`podman socket ${this.opts.socketPath}: ${err.message}; keeping the known pods, retrying in ${retryMs / 1000}s`);
  }

  private reread(): void {
    try {
      this.manifests = loadManifests(this.opts.paths);
    } catch (err) {
      this.opts.log.error(`kube YAML not applied, previous contents still serving: ${(err as Error).message}`);
      return;
    }
    this.publish();
  }

  private publish(): void {
    if (!this.claim?.newest) return;
    this.app.registry.setSource(this.id, snapshot(this.manifests, [...this.containers.values()], this.opts.nodeName));
  }
}

/** The services of the manifests and, for each, the endpoints its selector picks among `containers`. */
export function snapshot(m: Manifests, containers: readonly ContainerInspect[], nodeName: string): SourceSnapshot {
  const services: Service[] = [];
  const endpoints: Endpoint[] = [];
  const now = Date.now();
  for (const s of m.services) {
    services.push({
      namespace: s.namespace,
      name: s.name,
      ports: s.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
      ...(s.externalName && { externalName: s.externalName }),
    });
    const selector = s.selector;
    if (s.externalName !== undefined || selector === undefined) continue;
    // One endpoint per pod and address (a pod's containers share its network
    // namespace); a name two pods share is kept by the first, the other takes its dashed address.
    const addressOf = new Map<string, string>();
    for (const c of containers) {
      if (!selects(selector, c.Config.Labels)) continue;
      const podman = podmanHealthOf(c);
      const healthy = s.publishNotReadyAddresses || served(podman ? { podmanHealth: podman } : {}, undefined);
      const ports = endpointPorts(s, c.Config.Labels ?? {}, m.pods);
      const addresses = Object.values(c.NetworkSettings.Networks ?? {}).flatMap((a) => attachmentAddresses(a));
      const host = hostLabel(c);
      for (const address of addresses) {
        let name = addresses.length === 1 && host !== undefined ? host : dashedAddress(address);
        if (addressOf.has(name) && addressOf.get(name) !== address) name = dashedAddress(address);
        if (addressOf.get(name) === address) continue;
        addressOf.set(name, address);
        endpoints.push({
          namespace: s.namespace,
          service: s.name,
          name,
          nodeName,
          address,
          ports,
          healthy,
          ...(podman && { podmanHealth: podman }),
          updatedAt: now,
        });
      }
    }
  }
  return { services, endpoints };
}

/** The Service's ports as this pod serves them: a named targetPort is the pod's container port of that name. */
function endpointPorts(s: KubeService, labels: Record<string, string>, pods: readonly KubePodPorts[]): ServicePort[] {
  const out: ServicePort[] = [];
  for (const p of s.ports) {
    if (typeof p.targetPort === 'number') {
      out.push({ name: p.name, port: p.targetPort, protocol: p.protocol });
      continue;
    }
    const found = pods.find((pod) => pod.ports.has(p.targetPort as string) && Object.entries(pod.labels).every(([k, v]) => labels[k] === v));
    // Kubernetes leaves a pod without that container port out of the port's endpoints.
    if (found) out.push({ name: p.name, port: found.ports.get(p.targetPort)!, protocol: p.protocol });
  }
  return out;
}

/** The pod's hostname (spec.hostname, else the pod name, which kube play gives its containers) as a DNS label. */
function hostLabel(c: ContainerInspect): string | undefined {
  const h = dnsSafe(c.Config.Hostname ?? '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return isDnsLabel(h) ? h : undefined;
}
