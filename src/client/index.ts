// The client library: discovery API calls with a shared default client
// (seed: `discovery.GetServiceAddresses("postgres-service", "default")`),
// endpoint selection, connect-with-retry, watches and the DNS-only path.

import type { Socket } from 'node:net';
import { connectService, type ConnectOptions } from './connect.js';
import { DiscoveryClient } from './http.js';
import type { ServiceEndpoint } from './types.js';
import { watchService, type Watch, type WatchOptions } from './watch.js';

let shared: DiscoveryClient | undefined;

/** The client the top-level functions use: $PODSWARM_API_URL, else http://127.0.0.1:8080. */
export function defaultClient(): DiscoveryClient {
  return (shared ??= new DiscoveryClient());
}

export function getServiceAddresses(service: string, namespace = 'default', port?: string): Promise<string[]> {
  return defaultClient().getServiceAddresses(service, namespace, port);
}

export function getServiceEndpoints(service: string, namespace = 'default'): Promise<ServiceEndpoint[]> {
  return defaultClient().getServiceEndpoints(service, namespace);
}

export function connect(service: string, namespace: string, port: number | string, opts?: ConnectOptions & { client?: DiscoveryClient }): Promise<Socket> {
  return connectService(opts?.client ?? defaultClient(), service, namespace, port, opts);
}

export function watch(
  service: string,
  namespace: string,
  onChange: (endpoints: ServiceEndpoint[], index: number) => void,
  opts?: WatchOptions & { client?: DiscoveryClient },
): Watch {
  return watchService(opts?.client ?? defaultClient(), service, namespace, onChange, opts);
}

export { DiscoveryClient, DEFAULT_API_URL, type ClientOptions, type Indexed } from './http.js';
export { connectService, type ConnectOptions } from './connect.js';
export { watchService, type Watch, type WatchOptions } from './watch.js';
export { pickEndpoint, roundRobin, random, healthyOnly, preferLocal, attemptOrder, sameNodeOrder, type SameNode, type Strategy } from './pick.js';
export { resolveServiceSrv, resolveServiceAddresses, type DnsOptions, type SrvEndpoint } from './dns.js';
export { joinHostPort } from '../util/hostport.js';
export { DiscoveryError, type Member, type Members, type ServiceEndpoint, type ServicePort, type ServiceSummary, type VersionRange } from './types.js';
