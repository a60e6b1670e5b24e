// The process's own lines at INFO: which DNS listeners it serves and when it
// shuts down. They go through the logger (not the stdout banner that -quiet
// suppresses), so systemd's journal shows them whatever -quiet says.

import type { Logger } from '../log.js';
import { joinHostPort } from '../util/hostport.js';
import type { UdpPath } from './udp.js';

export interface ListenAddress {
  address: string;
  port: number;
}

/** `dns://127.0.0.1:53, dns://[::1]:53`, as the banner prints them. */
export function dnsUrls(addresses: readonly ListenAddress[]): string[] {
  return addresses.map((a) => `dns://${joinHostPort(a.address, a.port)}`);
}

/**
 * `podswarm-dns-1.0.0 listening on dns://169.254.20.10:53 (udp batch, tcp)`,
 * once per node: a worker says it at DEBUG only (its primary names every
 * listener). `udp batch` or `udp dgram` is the UDP I/O path (-udp.io).
 */
export function announceListening(
  log: Logger,
  version: string,
  addresses: readonly ListenAddress[],
  o: { workers: number; inWorker: boolean; udp: UdpPath },
): void {
  const where = addresses.length > 0 ? dnsUrls(addresses).join(', ') : 'no DNS address';
  const protocols = `udp ${o.udp}, tcp`;
  if (o.inWorker) {
    log.debug(`worker ${process.pid} listening on ${where} (${protocols})`);
    return;
  }
  const how = o.workers > 1 ? `${protocols}; ${o.workers} worker processes` : protocols;
  log.info({ listeners: dnsUrls(addresses), workers: o.workers, udp: o.udp }, `podswarm-dns-${version} listening on ${where} (${how})`);
}

export function announceShutdown(log: Logger, signal: string): void {
  log.info({ signal }, `${signal}: shutting down`);
}

export function announceStopped(log: Logger): void {
  log.info('stopped');
}
