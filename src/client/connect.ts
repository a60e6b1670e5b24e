// `connect`: discovery, selection and a direct TCP connection (seed: "TCP
// Communication via Service Discovery API"), retrying across endpoints.

import { connect as netConnect, type Socket } from 'node:net';
import type { DiscoveryClient } from './http.js';
import { joinHostPort } from '../util/hostport.js';
import { attemptOrder, healthyOnly, random, type Strategy } from './pick.js';
import { DiscoveryError, type ServiceEndpoint } from './types.js';

export interface ConnectOptions {
  /** Default: healthy endpoints in random order. */
  strategy?: Strategy;
  /** Per-attempt connect timeout (default 3 s). */
  timeoutMs?: number;
  /** At most this many endpoints are tried (default: all). */
  attempts?: number;
}

/**
 * Connects to one endpoint of the service. `port` is a port number or a
 * port name (looked up on each endpoint). Throws an AggregateError listing
 * every failed attempt when no endpoint accepts.
 */
export async function connectService(
  client: DiscoveryClient,
  service: string,
  namespace: string,
  port: number | string,
  opts: ConnectOptions = {},
): Promise<Socket> {
  const endpoints = await client.getServiceEndpoints(service, namespace);
  const order = attemptOrder(endpoints, opts.strategy ?? healthyOnly(random())).slice(0, opts.attempts ?? Infinity);
  if (order.length === 0) throw new DiscoveryError(503, `service '${service}' in namespace '${namespace}' has no healthy endpoint`);
  const failures: Error[] = [];
  for (const e of order) {
    const p = portNumber(e, port);
    if (p === undefined) {
      failures.push(new Error(`${e.name}: no port named '${port}'`));
      continue;
    }
    try {
      return await tcpConnect(e.address, p, opts.timeoutMs ?? 3000);
    } catch (err) {
      failures.push(new Error(`${e.name} (${joinHostPort(e.address, p)}): ${(err as Error).message}`));
    }
  }
  throw new AggregateError(
    failures,
    `could not connect to any endpoint of '${service}' in namespace '${namespace}': ${failures.map((f) => f.message).join('; ')}`,
  );
}

function portNumber(e: ServiceEndpoint, port: number | string): number | undefined {
  return typeof port === 'number' ? port : e.ports.find((p) => p.name === port)?.port;
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, timeout: timeoutMs });
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('timeout', () => fail(new Error(`connect timed out after ${timeoutMs} ms`)));
    socket.once('connect', () => {
      socket.off('error', fail);
      // The timeout was for connecting; an idle connection is the caller's business.
      socket.setTimeout(0);
      socket.removeAllListeners('timeout');
      resolve(socket);
    });
  });
}
