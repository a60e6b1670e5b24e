// This node's own registry entries as a feed of changes, for the backends
// that replicate them (gossip, etcd): the entries of every source that is
// not another node's, as replicated to us (isOwnSource). A change costs work in
// proportion to the services it touched, never to the whole source or
// registry: the registry names the services each change touched, only
// those are compared, entry objects the registry kept are skipped by
// identity, and the rest are compared by their JSON (a rescan that rebuilds
// identical objects announces nothing).

import { isOwnSource } from '../sources/source-id.js';
import type { Registry } from './registry.js';
import type { Endpoint, Service } from './types.js';

/** One replicated registry entry. */
export type RegistryValue = { kind: 'endpoint'; endpoint: Endpoint } | { kind: 'service'; service: Service };

/** A key (`e:NS/SVC/NAME` or `s:NS/NAME`) and its new value; null: it is gone. */
export interface LocalChange {
  key: string;
  value: RegistryValue | null;
}

export const endpointKey = (e: Endpoint): string => `e:${e.namespace}/${e.service}/${e.name}`;
export const serviceEntryKey = (s: Service): string => `s:${s.namespace}/${s.name}`;

type Raw = Endpoint | Service;

interface Published {
  /** The registry's object this value was made from: the same object means unchanged. */
  raw: Raw;
  value: RegistryValue;
  json: string;
}

/** The `ns/svc` service key an entry key belongs to. */
function serviceOf(key: string): string {
  const rest = key.slice(2);
  return key.startsWith('e:') ? rest.slice(0, rest.lastIndexOf('/')) : rest;
}

export class LocalChanges {
  /** Per local source, per service (`ns/svc`): entry key → the registry's object. */
  private readonly bySource = new Map<string, Map<string, Map<string, Raw>>>();
  private readonly published = new Map<string, Published>();
  /** Sources changed since the last batch: the services touched, or 'all'. */
  private readonly dirty = new Map<string, Set<string> | 'all'>();
  private scheduled: NodeJS.Immediate | undefined;
  private running = false;
  private readonly onSource = (source: string, services: ReadonlySet<string>): void => {
    if (!isOwnSource(source)) return;
    const d = this.dirty.get(source);
    if (d === undefined) this.dirty.set(source, new Set(services));
    else if (d !== 'all') for (const svc of services) d.add(svc);
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      const changes = this.collect();
      if (changes.length > 0) this.onChanges(changes);
    });
  };

  constructor(
    private readonly registry: Registry,
    private readonly onChanges: (changes: LocalChange[]) => void,
  ) {}

  /** The current entries as changes (every one with its value); from now on, batches of what changed. */
  start(): LocalChange[] {
    if (this.running) throw new Error('local changes: already started');
    this.running = true;
    this.registry.on('source', this.onSource);
    for (const id of this.registry.sourceIds()) if (isOwnSource(id)) this.dirty.set(id, 'all');
    return this.collect();
  }

  stop(): void {
    this.running = false;
    this.registry.off('source', this.onSource);
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.dirty.clear();
  }

  /** What this node publishes now, by key. */
  current(): ReadonlyMap<string, RegistryValue> {
    const out = new Map<string, RegistryValue>();
    for (const [key, p] of this.published) out.set(key, p.value);
    return out;
  }

  /** Compares the dirty services with what was published and returns the difference. */
  private collect(): LocalChange[] {
    const candidates = new Set<string>();
    for (const [source, services] of this.dirty) {
      let mine = this.bySource.get(source);
      if (!mine) this.bySource.set(source, (mine = new Map()));
      const keys = services === 'all' ? new Set([...mine.keys(), ...this.servicesOf(source)]) : services;
      for (const svc of keys) {
        const before = mine.get(svc);
        const after = new Map<string, Raw>();
        const { service, endpoints } = this.registry.sourceService(source, svc);
        if (service) after.set(serviceEntryKey(service), service);
        for (const e of endpoints) after.set(endpointKey(e), e);
        for (const key of before?.keys() ?? []) if (after.get(key) !== before?.get(key)) candidates.add(key);
        for (const [key, raw] of after) if (before?.get(key) !== raw) candidates.add(key);
        if (after.size === 0) mine.delete(svc);
        else mine.set(svc, after);
      }
      if (mine.size === 0) this.bySource.delete(source);
    }
    this.dirty.clear();
    const changes: LocalChange[] = [];
    for (const key of candidates) {
      const raw = this.holder(key);
      const old = this.published.get(key);
      if (raw === undefined) {
        if (old) {
          this.published.delete(key);
          changes.push({ key, value: null });
        }
        continue;
      }
      if (old?.raw === raw) continue;
      const value: RegistryValue = key.startsWith('e:') ? { kind: 'endpoint', endpoint: raw as Endpoint } : { kind: 'service', service: raw };
      const json = JSON.stringify(value);
      this.published.set(key, { raw, value, json });
      if (old?.json !== json) changes.push({ key, value });
    }
    return changes;
  }

  /** Every service key `source` has something in. */
  private servicesOf(source: string): Set<string> {
    const snap = this.registry.snapshot(source);
    const out = new Set<string>();
    for (const s of snap.services) out.add(`${s.namespace}/${s.name}`);
    for (const e of snap.endpoints) out.add(`${e.namespace}/${e.service}`);
    return out;
  }

  /** The object a key has in the first local source that holds it. */
  private holder(key: string): Raw | undefined {
    const svc = serviceOf(key);
    for (const services of this.bySource.values()) {
      const raw = services.get(svc)?.get(key);
      if (raw !== undefined) return raw;
    }
    return undefined;
  }
}
