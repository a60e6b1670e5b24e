// `--upstream-dns` / `UPSTREAM_DNS`: "IP[:PORT],..." with IPv6 as [v6]:port,
// each optionally written dns://, exactly what forward takes as TO. Host
// names are refused, as CoreDNS's forward refuses them: a DNS server that
// needs DNS to find its upstreams has nobody to ask at boot.

import { isIP } from 'node:net';
import { joinHostPort, type HostPort } from '../util/hostport.js';

/** Parses one `IP[:PORT]` / `[IPv6]:PORT` / bare IPv6; throws with the offending text. */
export function parseHostPort(text: string, defaultPort = 53): HostPort {
  let host = text;
  let port = defaultPort;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (isIP(text) !== 6) {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      host = text.slice(0, colon);
      const p = text.slice(colon + 1);
      if (!/^\d+$/.test(p)) throw new Error(`'${text}': bad port`);
      port = Number(p);
    }
  }
  if (isIP(host) === 0) throw new Error(`'${text}': not an IP address`);
  if (port < 1 || port > 65535) throw new Error(`'${text}': port out of range`);
  return { host, port };
}

/** Splits and validates a comma-separated upstream list, keeping it as `host:port` strings. */
export function parseUpstreamList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const bare = s.startsWith('dns://') ? s.slice('dns://'.length) : s;
      let hp: HostPort;
      try {
        hp = parseHostPort(bare);
      } catch (e) {
        const msg = (e as Error).message.replace(`'${bare}'`, `'${s}'`);
        throw new Error(msg.endsWith('not an IP address') ? `${msg} (upstreams are IP[:PORT] or [IPv6]:PORT, as forward's TO; host names are not resolved)` : msg);
      }
      return joinHostPort(hp.host, hp.port);
    });
}
