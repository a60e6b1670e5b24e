// unbound: the cluster data as local-data in a static local zone; forwards
// everything else to the workload's upstream (a dead loopback port when
// there is none, so nothing ever leaves the machine).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { srvWeight, SRV_PORT, TTL, ZONE, type ServiceData } from '../data.js';
import { launchForeground, type Env, type ServerSpec } from './types.js';

/** Discard port: nothing listens there. */
const DEAD_PORT = 9;

function localData(data: ServiceData[]): string[] {
  const out: string[] = [];
  const add = (rr: string): number => out.push(`  local-data: "${rr}"`);
  // With a SOA its negative answers carry one, as knot's and podswarm-dns's do.
  add(`${ZONE}. ${TTL} IN SOA ns.${ZONE}. hostmaster.${ZONE}. 1 3600 600 86400 ${TTL}`);
  for (const s of data) {
    for (const e of s.endpoints) {
      add(`${s.short}. ${TTL} IN A ${e.address}`);
      add(`${s.long}. ${TTL} IN A ${e.address}`);
      add(`${e.fqdn}. ${TTL} IN A ${e.address}`);
      add(`${s.srv}. ${TTL} IN SRV 0 ${srvWeight(s.endpoints.length)} ${SRV_PORT} ${e.fqdn}.`);
    }
  }
  return out;
}

function config(env: Env, port: number): string {
  const upstream = env.mode === 'cluster' ? DEAD_PORT : env.upstreamPort;
  return (
    [
      'server:',
      '  interface: 127.0.0.1',
      `  port: ${port}`,
      '  do-ip6: no',
      '  num-threads: 1',
      '  username: ""',
      '  chroot: ""',
      `  directory: "${env.dir}"`,
      `  pidfile: "${join(env.dir, 'unbound.pid')}"`,
      '  use-syslog: no',
      '  verbosity: 0',
      '  access-control: 127.0.0.0/8 allow',
      '  do-not-query-localhost: no',
      // No trust anchor here: iterator only, as a plain forwarder.
      '  module-config: "iterator"',
      '  qname-minimisation: no',
      // unbound blocks test. (RFC 6761) by default; the upstream zone lives there.
      '  local-zone: "test." nodefault',
      `  local-zone: "${ZONE}." static`,
      ...localData(env.data),
      'forward-zone:',
      '  name: "."',
      `  forward-addr: 127.0.0.1@${upstream}`,
    ].join('\n') + '\n'
  );
}

export function unbound(version: string, port: number): ServerSpec {
  const spec: ServerSpec = {
    label: 'unbound',
    version,
    role: 'peer',
    port,
    cpu: '0',
    note: '',
    async launch(env) {
      const conf = join(env.dir, 'unbound.conf');
      writeFileSync(conf, config(env, port));
      return launchForeground(spec, env, 'unbound', ['-d', '-c', conf], env.data[0]!.short, [conf]);
    },
  };
  return spec;
}
