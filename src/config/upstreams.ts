// `--upstream-dns` / `UPSTREAM_DNS`: "IP[:PORT],..." with IPv6 as [v6]:port,
// each optionally written dns://, exactly what forward takes as TO. Host
// names are refused, as CoreDNS's forward refuses them: a DNS server that
// needs DNS to find its upstreams has nobody to ask at boot.

import { joinHostPort, parseIpPort, type HostPort } from '../util/hostport.js';

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
        hp = parseIpPort(bare);
      } catch (e) {
        const msg = (e as Error).message.replace(`'${bare}'`, `'${s}'`);
        throw new Error(
          msg.endsWith('not an IP address') ? `${msg} (upstreams are IP[:PORT] or [IPv6]:PORT, as forward's TO; host names are not resolved)` : msg,
        );
      }
      return joinHostPort(hp.host, hp.port);
    });
}
