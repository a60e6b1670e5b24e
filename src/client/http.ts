// The HTTP side of the client: typed calls to the discovery API over undici.

import { Agent, request, type Dispatcher } from 'undici';
import { DiscoveryError, type Members, type ServiceEndpoint, type ServiceSummary } from './types.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

export interface ClientOptions {
  /** API base URL (default: $PODSWARM_API_URL, else http://127.0.0.1:8080). */
  url?: string;
  /** Per-request timeout for non-blocking calls (default 5 s). */
  timeoutMs?: number;
  /** Bearer token for register/deregister. */
  token?: string;
  dispatcher?: Dispatcher;
}

/** A blocking-query result: the data and the index to pass next time. */
export interface Indexed<T> {
  value: T;
  index: number;
}

export class DiscoveryClient {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;

  constructor(private readonly opts: ClientOptions = {}) {
    this.url = (opts.url ?? process.env.PODSWARM_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.dispatcher = opts.dispatcher ?? new Agent();
  }

  /** `ip:port` of the service's healthy endpoints (`port`: a port name; default the first). */
  async getServiceAddresses(service: string, namespace = 'default', port?: string): Promise<string[]> {
    const q = port === undefined ? '' : `?port=${encodeURIComponent(port)}`;
    return (await this.get<{ addresses: string[] }>(`${svcPath(namespace, service)}/addresses${q}`)).value.addresses;
  }

  /** Every endpoint with node, address, ports and health (`healthyOnly` filters on the server). */
  async getServiceEndpoints(service: string, namespace = 'default', healthyOnly = false): Promise<ServiceEndpoint[]> {
    return (await this.get<ServiceEndpoint[]>(`${svcPath(namespace, service)}/endpoints${healthyOnly ? '?healthy=true' : ''}`)).value;
  }

  /** Endpoints as a blocking query: returns once the service changed past `index` or `wait` ran out. */
  endpointsAfter(service: string, namespace: string, index: number, waitMs: number, signal?: AbortSignal): Promise<Indexed<ServiceEndpoint[]>> {
    return this.get<ServiceEndpoint[]>(`${svcPath(namespace, service)}/endpoints?index=${index}&wait=${Math.round(waitMs)}ms`, signal, waitMs);
  }

  async listServices(namespace?: string): Promise<ServiceSummary[]> {
    const path = namespace === undefined ? '/api/v1/services' : `/api/v1/services/${encodeURIComponent(namespace)}`;
    return (await this.get<ServiceSummary[]>(path)).value;
  }

  /** The cluster members the node knows (`gossip: false`: the node runs no gossip and is alone in the list). */
  async getMembers(): Promise<Members> {
    return (await this.get<Members>('/api/v1/members')).value;
  }

  /** Registers an endpoint that is not a container (needs the token). */
  async register(
    service: string,
    namespace: string,
    name: string,
    body: { address: string; ports?: ServiceEndpoint['ports']; nodeName?: string },
  ): Promise<ServiceEndpoint> {
    return (await this.call<ServiceEndpoint>('PUT', `${svcPath(namespace, service)}/endpoints/${encodeURIComponent(name)}`, undefined, 0, body)).value;
  }

  async deregister(service: string, namespace: string, name: string): Promise<void> {
    await this.call<void>('DELETE', `${svcPath(namespace, service)}/endpoints/${encodeURIComponent(name)}`);
  }

  close(): Promise<void> {
    return this.opts.dispatcher ? Promise.resolve() : this.dispatcher.close();
  }

  private get<T>(path: string, signal?: AbortSignal, waitMs = 0): Promise<Indexed<T>> {
    return this.call<T>('GET', path, signal, waitMs);
  }

  /** `waitMs`: how long the server may hold a blocking query before it answers. */
  private async call<T>(method: 'GET' | 'PUT' | 'DELETE', path: string, signal?: AbortSignal, waitMs = 0, body?: unknown): Promise<Indexed<T>> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.opts.token !== undefined) headers.authorization = `Bearer ${this.opts.token}`;
    let res;
    try {
      res = await request(this.url + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher: this.dispatcher,
        signal,
        // A blocking query may legitimately stay silent for its whole wait.
        headersTimeout: waitMs + this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new DiscoveryError(0, `discovery API ${this.url}: ${(e as Error).message}`);
    }
    const header = res.headers['x-podswarm-index'];
    const index = typeof header === 'string' ? Number(header) : 0;
    if (res.statusCode === 204) {
      await res.body.dump();
      return { value: undefined as T, index };
    }
    const data = (await res.body.json().catch(() => ({}))) as T & { error?: string };
    if (res.statusCode >= 400) throw new DiscoveryError(res.statusCode, data.error ?? `HTTP ${res.statusCode}`, typeof header === 'string' ? index : undefined);
    return { value: data, index };
  }
}

function svcPath(namespace: string, service: string): string {
  return `/api/v1/services/${encodeURIComponent(namespace)}/${encodeURIComponent(service)}`;
}
