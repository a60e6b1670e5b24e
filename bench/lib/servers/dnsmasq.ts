// dnsmasq: the cluster data as an addn-hosts file plus srv-host lines,
// authoritative-style NXDOMAIN for the rest of cluster.local, no upstream
// but the workload's.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { srvWeight, SRV_PORT, TTL, ZONE, type ServiceData } from '../data.js';
import { launchForeground, type Env, type ServerSpec } from './types.js';

function hosts(data: ServiceData[]): string {
  const out: string[] = [];
  for (const s of data) for (const e of s.endpoints) out.push(`${e.address} ${s.short} ${s.long} ${e.fqdn}`);
  return out.join('\n') + '\n';
}

function config(env: Env, port: number, hostsFile: string): string {
  const cache = env.mode === 'forward-cached' ? 10000 : env.mode === 'forward-miss' ? 0 : 150;
  const lines = [
    'keep-in-foreground',
    'no-resolv',
    'no-hosts',
    'bind-interfaces',
    'listen-address=127.0.0.1',
    `port=${port}`,
    'user=root',
    'log-facility=-',
    `cache-size=${cache}`,
    // Its hosts answers would carry TTL 0; the others give TTL 30.
    `local-ttl=${TTL}`,
    `addn-hosts=${hostsFile}`,
    `local=/${ZONE}/`,
  ];
  for (const s of env.data) for (const e of s.endpoints) lines.push(`srv-host=${s.srv},${e.fqdn},${SRV_PORT},0,${srvWeight(s.endpoints.length)}`);
  if (env.mode !== 'cluster') lines.push(`server=127.0.0.1#${env.upstreamPort}`);
  return lines.join('\n') + '\n';
}

export function dnsmasq(version: string, port: number): ServerSpec {
  const spec: ServerSpec = {
    label: 'dnsmasq',
    version,
    role: 'peer',
    port,
    cpu: '0',
    note: '',
    async launch(env) {
      const hostsFile = join(env.dir, 'dnsmasq.hosts');
      writeFileSync(hostsFile, hosts(env.data));
      const conf = join(env.dir, 'dnsmasq.conf');
      writeFileSync(conf, config(env, port, hostsFile));
      return launchForeground(spec, env, 'dnsmasq', [`--conf-file=${conf}`], env.data[0]!.short, [conf, hostsFile]);
    },
  };
  return spec;
}
