// systemd-resolved hosts: /etc/resolv.conf then names only resolved's local
// stub. Forwarding to it would hide the real servers behind a second cache
// and loop back when resolved itself forwards to this server (a node DNS is
// a natural resolved upstream), so, as kubeadm sets kubelet's resolvConf,
// the servers resolved forwards to are used instead.

import { readFileSync } from 'node:fs';
import { pluginError } from '../../src/corefile/args.js';
import type { Token } from '../../src/corefile/types.js';
import { parseAddress, type Address } from './address.js';
import { resolvConfNameservers } from './resolvconf.js';

/** resolved's stub listener (127.0.0.53) and its proxy-only listener (127.0.0.54), both on port 53. */
const STUBS = new Set(['127.0.0.53', '127.0.0.54']);

/** Where systemd-resolved writes the upstream servers it currently uses. */
export const RESOLVED_UPSTREAMS = '/run/systemd/resolve/resolv.conf';

export function isResolvedStub(a: Address): boolean {
  return a.port === 53 && STUBS.has(a.host);
}

/** True when a file's nameservers are resolved's stubs and nothing else (a mixed list is used as written). */
export function onlyResolvedStub(addrs: readonly Address[]): boolean {
  return addrs.length > 0 && addrs.every(isResolvedStub);
}

/**
 * The usable nameservers in resolved's upstreams file, for the file named by
 * `tok` whose only servers are the stub. Missing or empty is refused rather
 * than falling back to the stub: that fallback is the loop this rule avoids,
 * and a user who does want the stub can name it (`forward . 127.0.0.53`).
 */
export function resolvedUpstreams(tok: Token, path = RESOLVED_UPSTREAMS): Address[] {
  const why = `${tok.text} names only systemd-resolved's stub, so its upstreams are read from ${path}`;
  const hint = `(forward to the stub itself with 'forward . 127.0.0.53')`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw pluginError('forward', tok, `${why}, which cannot be read (${code}; is systemd-resolved running?) ${hint}`);
  }
  // A generated file: a line that is not an address (or is the stub again)
  // is skipped rather than fatal, as long as one usable server remains.
  const addrs = resolvConfNameservers(text)
    .map((s) => parseAddress(s))
    .filter((a): a is Address => a !== undefined && !isResolvedStub(a));
  if (addrs.length === 0) throw pluginError('forward', tok, `${why}, which has no usable nameserver (systemd-resolved knows no upstream DNS server) ${hint}`);
  return addrs;
}
