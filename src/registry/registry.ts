// The registry: what each source contributes, merged into one view per
// service. Lookups are map reads; every change bumps a global index and
// emits the changed services so caches and watchers can react.

import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import { serviceKey } from './names.js';
import { uniqueNames } from './unique-names.js';
import type { Endpoint, Service, ServiceKey, ServicePort, ServiceView, SourceSnapshot } from './types.js';

interface SourceState {
  services: Map<string, Service>;
  /** Service key → endpoint name → endpoint, so rebuilding one service never scans the rest. */
  endpoints: Map<string, Map<string, Endpoint>>;
}

/** Where an endpoint of a view comes from: the source, and its object there (whose name a clash may have qualified). */
export interface Provenance {
  source: string;
  endpoint: Endpoint;
}

/** One endpoint of one source before and after a change (absent: not there). */
export interface EndpointChange {
  before?: Endpoint;
  after?: Endpoint;
}

export interface RegistryEvents {
  change: [changed: ServiceKey[], index: number];
  /**
   * Per endpoint, what one operation changed in `source` (for the operator's
   * log). Only computed while someone listens: a full sync diffs every endpoint.
   * `why` comes with health verdicts (the health checker says why).
   */
  endpoints: [source: string, changes: EndpointChange[], why?: string];
  /**
   * What one source contributes changed, in these services (`ns/svc` keys),
   * so a follower re-reads those and not the whole source.
   */
  source: [source: string, services: ReadonlySet<string>];
}

export class Registry extends EventEmitter<RegistryEvents> {
  private readonly sources = new Map<string, SourceState>();
  private readonly views = new Map<string, ServiceView>();
  private readonly namespaces = new Map<string, number>();
  private readonly addresses = new Map<string, Endpoint[]>();
  private readonly provenances = new WeakMap<Endpoint, Provenance>();
  private _index = 1;
  private externalNames = 0;

  /** Raft-like monotonically increasing change counter. */
  get index(): number {
    return this._index;
  }

  /** Replaces everything `source` contributes. */
  setSource(source: string, snap: SourceSnapshot): void {
    const old = this.sources.get(source);
    const next: SourceState = { services: new Map(), endpoints: new Map() };
    for (const s of snap.services) next.services.set(serviceKey(s.namespace, s.name), s);
    for (const e of snap.endpoints) endpointsOf(next, serviceKey(e.namespace, e.service)).set(e.name, e);
    // Only services whose objects differ are rebuilt: a source re-set with
    // mostly the same objects (replication applying a few changes of an
    // owner with thousands) costs a comparison, not thousands of views.
    const touched = new Set<string>();
    for (const st of old ? [old, next] : [next]) {
      for (const k of st.services.keys()) if (old?.services.get(k) !== next.services.get(k)) touched.add(k);
      for (const k of st.endpoints.keys()) if (!sameEndpoints(old?.endpoints.get(k), next.endpoints.get(k))) touched.add(k);
    }
    if (snap.services.length === 0 && snap.endpoints.length === 0) this.sources.delete(source);
    else this.sources.set(source, next);
    if (this.listenerCount('endpoints') > 0) this.emit('endpoints', source, diffSources(old, next));
    this.refresh(touched, source);
  }

  /** Drops everything `source` contributed. */
  removeSource(source: string): void {
    if (this.sources.has(source)) this.setSource(source, { services: [], endpoints: [] });
  }

  /** Adds or replaces one endpoint of `source`. */
  upsertEndpoint(source: string, e: Endpoint): void {
    const key = serviceKey(e.namespace, e.service);
    const eps = endpointsOf(this.state(source), key);
    const before = eps.get(e.name);
    eps.set(e.name, e);
    this.emitEndpoint(source, { before, after: e });
    this.refresh(new Set([key]), source);
  }

  removeEndpoint(source: string, namespace: string, service: string, name: string): boolean {
    const key = serviceKey(namespace, service);
    const eps = this.sources.get(source)?.endpoints.get(key);
    const before = eps?.get(name);
    if (!eps || !before) return false;
    eps.delete(name);
    if (eps.size === 0) this.sources.get(source)!.endpoints.delete(key);
    this.emitEndpoint(source, { before });
    this.refresh(new Set([key]), source);
    return true;
  }

  upsertService(source: string, s: Service): void {
    this.state(source).services.set(serviceKey(s.namespace, s.name), s);
    this.refresh(new Set([serviceKey(s.namespace, s.name)]), source);
  }

  /** Drops one service definition of `source` (its endpoints stay); false when it had none. */
  removeService(source: string, namespace: string, name: string): boolean {
    const key = serviceKey(namespace, name);
    if (!this.sources.get(source)?.services.delete(key)) return false;
    this.refresh(new Set([key]), source);
    return true;
  }

  /** Sets an endpoint's health (`why`: for the log); returns false when it is unknown or unchanged. */
  setHealthy(source: string, namespace: string, service: string, name: string, healthy: boolean, why?: string): boolean {
    const key = serviceKey(namespace, service);
    const eps = this.sources.get(source)?.endpoints.get(key);
    const e = eps?.get(name);
    if (!eps || !e || e.healthy === healthy) return false;
    const after = { ...e, healthy, updatedAt: Date.now() };
    eps.set(name, after);
    this.emitEndpoint(source, { before: e, after }, why);
    this.refresh(new Set([key]), source);
    return true;
  }

  /** What `source` contributes now (for gossip and health checks). */
  snapshot(source: string): SourceSnapshot {
    const st = this.sources.get(source);
    if (!st) return { services: [], endpoints: [] };
    return { services: [...st.services.values()], endpoints: [...st.endpoints.values()].flatMap((m) => [...m.values()]) };
  }

  /** One endpoint of one source (O(1), for the API's ownership checks). */
  endpoint(source: string, namespace: string, service: string, name: string): Endpoint | undefined {
    return this.sources.get(source)?.endpoints.get(serviceKey(namespace, service))?.get(name);
  }

  /** What `source` contributes to one service (`ns/svc` key), as the 'source' event names it. */
  sourceService(source: string, key: string): { service: Service | undefined; endpoints: Iterable<Endpoint> } {
    const st = this.sources.get(source);
    return { service: st?.services.get(key), endpoints: st?.endpoints.get(key)?.values() ?? [] };
  }

  sourceIds(): string[] {
    return [...this.sources.keys()];
  }

  lookup(namespace: string, service: string): ServiceView | undefined {
    return this.views.get(serviceKey(namespace, service));
  }

  /** Whether any service is an ExternalName alias (answer paths skip looking when none is). */
  get hasExternalNames(): boolean {
    return this.externalNames > 0;
  }

  hasNamespace(namespace: string): boolean {
    return this.namespaces.has(namespace);
  }

  /** Endpoints (of any service) that have this address, for PTR answers. */
  byAddress(address: string): readonly Endpoint[] {
    return this.addresses.get(address) ?? [];
  }

  /** The source of an endpoint of a view, and the object that source holds (undefined: in no view). */
  provenance(e: Endpoint): Provenance | undefined {
    return this.provenances.get(e);
  }

  services(namespace?: string): ServiceView[] {
    const all = [...this.views.values()];
    return namespace === undefined ? all : all.filter((v) => v.service.namespace === namespace);
  }

  private emitEndpoint(source: string, change: EndpointChange, why?: string): void {
    if (this.listenerCount('endpoints') > 0) this.emit('endpoints', source, [change], why);
  }

  private state(source: string): SourceState {
    let st = this.sources.get(source);
    if (!st) {
      st = { services: new Map(), endpoints: new Map() };
      this.sources.set(source, st);
    }
    return st;
  }

  /** Rebuilds the views of the touched services and emits one change event. */
  private refresh(touched: Set<string>, source: string): void {
    this.emit('source', source, touched);
    if (touched.size === 0) return;
    const index = ++this._index;
    const changed: ServiceKey[] = [];
    for (const key of touched) {
      const old = this.views.get(key);
      const view = this.build(key, index);
      if (old) this.unindex(old);
      if (view) {
        this.views.set(key, view);
        this.indexView(view);
      } else {
        this.views.delete(key);
      }
      if (old || view) {
        const [namespace, service] = key.split('/') as [string, string];
        changed.push({ namespace, service });
      }
    }
    if (changed.length > 0) this.emit('change', changed, index);
  }

  private build(key: string, index: number): ServiceView | undefined {
    const [namespace, name] = key.split('/') as [string, string];
    const ports = new Map<string, ServicePort>();
    const merged: Endpoint[] = [];
    let defined = false;
    let externalName: string | undefined;
    for (const [id, st] of this.sources) {
      const s = st.services.get(key);
      if (s) {
        defined = true;
        externalName ??= s.externalName;
        for (const p of s.ports) if (!ports.has(p.name)) ports.set(p.name, p);
      }
      const eps = st.endpoints.get(key);
      for (const e of eps?.values() ?? []) {
        merged.push(e);
        this.provenances.set(e, { source: id, endpoint: e });
      }
    }
    if (!defined && merged.length === 0) return undefined;
    // Endpoints that bring their own named ports make those ports part of the service.
    for (const e of merged) for (const p of e.ports) if (!ports.has(p.name)) ports.set(p.name, p);
    // A stable order (v4 before v6, then by address) keeps answers and caches deterministic.
    merged.sort(compareEndpoints);
    const { endpoints, renamed } = uniqueNames(merged);
    for (const [copy, e] of renamed) this.provenances.set(copy, this.provenances.get(e)!);
    return {
      service: { namespace, name, ports: [...ports.values()], ...(externalName !== undefined && { externalName }) },
      endpoints,
      healthy: endpoints.filter((e) => e.healthy),
      modifyIndex: index,
    };
  }

  private indexView(v: ServiceView): void {
    const ns = v.service.namespace;
    this.namespaces.set(ns, (this.namespaces.get(ns) ?? 0) + 1);
    if (v.service.externalName !== undefined) this.externalNames++;
    for (const e of v.endpoints) {
      const list = this.addresses.get(e.address);
      if (list) list.push(e);
      else this.addresses.set(e.address, [e]);
    }
  }

  private unindex(v: ServiceView): void {
    const ns = v.service.namespace;
    if (v.service.externalName !== undefined) this.externalNames--;
    const n = (this.namespaces.get(ns) ?? 1) - 1;
    if (n <= 0) this.namespaces.delete(ns);
    else this.namespaces.set(ns, n);
    for (const e of v.endpoints) {
      const list = this.addresses.get(e.address);
      if (!list) continue;
      const rest = list.filter((x) => x !== e);
      if (rest.length === 0) this.addresses.delete(e.address);
      else this.addresses.set(e.address, rest);
    }
  }
}

function sameEndpoints(a: Map<string, Endpoint> | undefined, b: Map<string, Endpoint> | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.size !== b.size) return false;
  for (const [name, e] of a) if (b.get(name) !== e) return false;
  return true;
}

function endpointsOf(st: SourceState, key: string): Map<string, Endpoint> {
  let m = st.endpoints.get(key);
  if (!m) st.endpoints.set(key, (m = new Map()));
  return m;
}

/** Every endpoint present in `old` or `next` (unchanged ones too: the listener decides what changed). */
function diffSources(old: SourceState | undefined, next: SourceState): EndpointChange[] {
  const out: EndpointChange[] = [];
  for (const [key, eps] of next.endpoints) {
    const before = old?.endpoints.get(key);
    for (const [name, after] of eps) if (before?.get(name) !== after) out.push({ before: before?.get(name), after });
  }
  if (old) {
    for (const [key, eps] of old.endpoints) {
      const now = next.endpoints.get(key);
      for (const [name, before] of eps) if (!now?.has(name)) out.push({ before });
    }
  }
  return out;
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  const fa = isIPv4(a.address) ? 0 : 1;
  const fb = isIPv4(b.address) ? 0 : 1;
  if (fa !== fb) return fa - fb;
  return a.address < b.address ? -1 : a.address > b.address ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
