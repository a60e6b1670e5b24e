// The operator's log of what happened to endpoints, from one place for every
// source (files, the API, Podman, gossip, health checks): the registry's
// 'endpoints' events. Changes are coalesced per tick, so a value that flips
// and flips back within one tick (a file re-read resetting a health verdict
// that the checker re-applies at once) prints nothing.
//
// Volume: a source that changes at most SYNC_LINES endpoints in one tick gets
// one INFO line per endpoint; a bigger change (a registry file loaded, a
// node's whole registry arriving by gossip) gets one INFO summary line and
// the per-endpoint lines at DEBUG, so 10,000 services at start print one line.

import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../log.js';
import type { EndpointChange, Registry } from './registry.js';
import type { Endpoint } from './types.js';

export const SYNC_LINES = 10;

interface Pending {
  source: string;
  before?: Endpoint;
  after?: Endpoint;
  why?: string;
}

type Kind = 'registered' | 'removed' | 'updated' | 'health';

/** Logs endpoint changes of `registry` until the returned function is called. */
export function logRegistryChanges(registry: Registry, log: Logger): () => void {
  const pending = new Map<string, Pending>();
  let scheduled: NodeJS.Immediate | undefined;
  const onEndpoints = (source: string, changes: EndpointChange[], why?: string): void => {
    for (const c of changes) {
      const e = (c.after ?? c.before)!;
      const key = `${source}\0${e.namespace}/${e.service}/${e.name}`;
      const p = pending.get(key);
      if (!p) pending.set(key, { source, before: c.before, after: c.after, why });
      else {
        p.after = c.after;
        if (why !== undefined) p.why = why;
      }
    }
    scheduled ??= setImmediate(flush);
  };
  const flush = (): void => {
    scheduled = undefined;
    const bySource = new Map<string, Array<[Kind, Pending]>>();
    for (const p of pending.values()) {
      const kind = classify(p);
      if (!kind) continue;
      let list = bySource.get(p.source);
      if (!list) bySource.set(p.source, (list = []));
      list.push([kind, p]);
    }
    pending.clear();
    for (const [source, list] of bySource) {
      const sync = list.length > SYNC_LINES;
      if (sync) log.info({ source }, summary(source, list));
      if (sync && !log.isLevelEnabled('debug')) continue;
      for (const [kind, p] of list) {
        const e = (p.after ?? p.before)!;
        const fields = { source, event: kind, namespace: e.namespace, service: e.service, endpoint: e.name, address: e.address, node: e.nodeName };
        if (sync) log.debug(fields, line(kind, p));
        else log.info(fields, line(kind, p));
      }
    }
  };
  registry.on('endpoints', onEndpoints);
  return () => {
    registry.off('endpoints', onEndpoints);
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    pending.clear();
  };
}

function classify(p: Pending): Kind | undefined {
  if (!p.before) return p.after ? 'registered' : undefined;
  if (!p.after) return 'removed';
  if (changedFields(p.before, p.after).length > 0) return 'updated';
  return p.before.healthy !== p.after.healthy ? 'health' : undefined;
}

/** What changed besides health and the timestamp. */
function changedFields(a: Endpoint, b: Endpoint): string[] {
  const out: string[] = [];
  if (a.address !== b.address) out.push(`address was ${a.address}`);
  if (a.nodeName !== b.nodeName) out.push(`node was ${a.nodeName}`);
  if (!isDeepStrictEqual(a.ports, b.ports)) out.push('ports changed');
  if (!isDeepStrictEqual(a.healthCheck, b.healthCheck)) out.push('health check changed');
  return out;
}

function subject(e: Endpoint, source: string): string {
  return `registry: endpoint ${e.name}.${e.service}.${e.namespace} ${e.address} (node ${e.nodeName}, source ${source})`;
}

function line(kind: Kind, p: Pending): string {
  const e = (p.after ?? p.before)!;
  const s = subject(e, p.source);
  switch (kind) {
    case 'registered':
      return `${s} registered${e.healthy ? '' : ', unhealthy'}`;
    case 'removed':
      return `${s} removed`;
    case 'updated': {
      const what = changedFields(p.before!, p.after!);
      if (p.before!.healthy !== e.healthy) what.push(`now ${e.healthy ? 'healthy' : 'unhealthy'}`);
      return `${s} updated: ${what.join(', ')}`;
    }
    case 'health':
      return `${s} is ${e.healthy ? 'healthy' : 'unhealthy'}${p.why ? `: ${p.why}` : ''}`;
  }
}

function summary(source: string, list: Array<[Kind, Pending]>): string {
  const n: Record<Kind, number> = { registered: 0, removed: 0, updated: 0, health: 0 };
  for (const [kind] of list) n[kind]++;
  const parts = [
    n.registered && `${n.registered} registered`,
    n.removed && `${n.removed} removed`,
    n.updated && `${n.updated} updated`,
    n.health && `${n.health} health changes`,
  ].filter(Boolean);
  return `registry: source ${source}: ${list.length} endpoint changes (${parts.join(', ')}); one line each at DEBUG`;
}
