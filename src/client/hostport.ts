// `host:port` text as Go's net.JoinHostPort writes it: IPv6 in brackets.

import { isIPv6 } from 'node:net';

export function joinHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
