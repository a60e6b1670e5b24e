// The DNS-only path: SRV and A/AAAA lookups against the node's podswarm-dns,
// for programs that would rather not speak the HTTP API.

import { Resolver } from 'node:dns/promises';
import { joinHostPort } from '../util/hostport.js';

export interface DnsOptions {
  /** `IP` or `IP:PORT` of podswarm-dns (default: $PODSWARM_DNS, else 127.0.0.1:53). */
  server?: string;
  /** Cluster zone (default cluster.local). */
  zone?: string;
  protocol?: 'tcp' | 'udp';
  timeoutMs?: number;
}

export interface SrvEndpoint {
  target: string;
  port: number;
  priority: number;
  weight: number;
  /** The target's A and AAAA addresses. */
  addresses: string[];
}

function resolver(opts: DnsOptions): Resolver {
  const r = new Resolver({ timeout: opts.timeoutMs ?? 2000, tries: 2 });
  r.setServers([opts.server ?? process.env.PODSWARM_DNS ?? '127.0.0.1:53']);
  return r;
}

/** `_<port>._<proto>.<service>.<namespace>.<zone>`, each target resolved to its addresses. */
export async function resolveServiceSrv(service: string, namespace: string, portName: string, opts: DnsOptions = {}): Promise<SrvEndpoint[]> {
  const r = resolver(opts);
  const name = `_${portName}._${opts.protocol ?? 'tcp'}.${service}.${namespace}.${opts.zone ?? 'cluster.local'}`;
  const records = await r.resolveSrv(name);
  return Promise.all(
    records.map(async (s) => {
      const [v4, v6] = await Promise.all([r.resolve4(s.name).catch(() => []), r.resolve6(s.name).catch(() => [])]);
      return { target: s.name, port: s.port, priority: s.priority, weight: s.weight, addresses: [...v4, ...v6] };
    }),
  );
}

/** `ip:port` for every SRV target address: the DNS twin of getServiceAddresses. */
export async function resolveServiceAddresses(service: string, namespace: string, portName: string, opts: DnsOptions = {}): Promise<string[]> {
  const srv = await resolveServiceSrv(service, namespace, portName, opts);
  return srv.flatMap((s) => s.addresses.map((a) => joinHostPort(a, s.port)));
}
