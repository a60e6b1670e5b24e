// knot: authoritative for cluster.local (the peer), and as the upstream of
// the forward workloads (authoritative for test.).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { srvWeight, SRV_PORT, TTL, upstreamZone, ZONE, type ServiceData } from '../data.js';
import { launchForeground, type Env, type Running, type ServerSpec } from './types.js';
import { knotConfig } from '../../../test/helpers/knot.js';

function clusterZone(data: ServiceData[]): string {
  const out = [`$ORIGIN ${ZONE}.`, `$TTL ${TTL}`, `@ SOA ns.${ZONE}. hostmaster.${ZONE}. 1 3600 600 86400 ${TTL}`, '@ NS ns', 'ns A 127.0.0.1'];
  for (const s of data) {
    for (const e of s.endpoints) out.push(`${s.short}. A ${e.address}`, `${s.long}. A ${e.address}`, `${e.fqdn}. A ${e.address}`);
    for (const e of s.endpoints) out.push(`${s.srv}. SRV 0 ${srvWeight(s.endpoints.length)} ${SRV_PORT} ${e.fqdn}.`);
  }
  return out.join('\n') + '\n';
}

function config(dir: string, port: number, zone: string, file: string, workers: number): string {
  return knotConfig(dir, port, [{ domain: zone, file }], workers);
}

async function startKnot(spec: ServerSpec, env: Env, name: string, zone: string, zoneText: string, probe: string, workers: number): Promise<Running> {
  const dir = join(env.dir, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${zone}.zone`);
  writeFileSync(file, zoneText);
  const conf = join(dir, 'knot.conf');
  writeFileSync(conf, config(dir, spec.port, zone, file, workers));
  return launchForeground(spec, env, 'knotd', ['-c', conf], probe, [conf, file]);
}

export function knot(version: string, port: number): ServerSpec {
  const spec: ServerSpec = {
    label: 'knot',
    version,
    role: 'peer',
    port,
    cpu: '0',
    note: '',
    launch: (env) => startKnot(spec, env, 'knot', ZONE, clusterZone(env.data), env.data[0]!.short, 1),
  };
  return spec;
}

/** The forward workloads' upstream; on the load generator's core, so the server under test keeps CPU 0. */
export function upstreamKnot(version: string, port: number): ServerSpec {
  const spec: ServerSpec = {
    label: 'upstream knot',
    version,
    role: 'peer',
    port,
    cpu: '1',
    note: '',
    launch: (env) => startKnot(spec, env, 'upstream', 'test', upstreamZone(), 'h0.ext.test', 1),
  };
  return spec;
}
