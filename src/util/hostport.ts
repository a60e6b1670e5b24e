// `host:port` as Go's net.JoinHostPort writes it (IPv6 in brackets), shared by
// the core, the plugins and the client library.

import { isIPv6 } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

export function joinHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
