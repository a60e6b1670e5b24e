// An upstream address: what --upstream-dns accepts (IP[:PORT], [IPv6]:PORT),
// optionally written `dns://...` as in CoreDNS.

import { isIP } from 'node:net';
import { joinHostPort, parseIpPort } from '../../src/util/hostport.js';

export interface Address {
  host: string;
  port: number;
  family: 4 | 6;
  /** `127.0.0.1:53` or `[::1]:53`: the `to` label in metrics and logs. */
  label: string;
}

/** The address, or undefined when `text` is not an IP literal with an optional port. */
export function parseAddress(text: string): Address | undefined {
  let host: string;
  let port: number;
  try {
    ({ host, port } = parseIpPort(text.startsWith('dns://') ? text.slice(6) : text));
  } catch {
    return undefined;
  }
  const family = isIP(host) === 6 ? 6 : 4;
  return { host, port, family, label: joinHostPort(host, port) };
}
