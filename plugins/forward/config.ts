// `forward FROM TO... { ... }` parsed into options (CoreDNS forward/setup.go).

import { readFileSync, statSync } from 'node:fs';
import { argCount, parseDuration, parseUint, pluginError, subdirectives, unknownSubdirective, zoneArgs } from '../../src/corefile/args.js';
import { parseServerKey } from '../../src/corefile/keys.js';
import { CorefileError, type Directive, type Token } from '../../src/corefile/types.js';
import { parseAddress, type Address } from './address.js';
import type { ForwardOptions } from './forward.js';
import { isPolicyName, POLICIES, type PolicyName } from './policy.js';
import { resolvConfNameservers } from './resolvconf.js';
import { onlyResolvedStub, RESOLVED_UPSTREAMS, resolvedUpstreams } from './resolved.js';
import type { UpstreamOptions } from './upstream.js';

export const MAX_UPSTREAMS = 15;

export interface ForwardConfig {
  forward: ForwardOptions;
  upstream: UpstreamOptions;
  to: Address[];
  policy: PolicyName;
  /** Things worth logging once the config starts (an upstream list taken from systemd-resolved). */
  notes: string[];
}

/**
 * Parses one directive. `override` (from --upstream-dns / UPSTREAM_DNS)
 * replaces the TO list of a `forward .` directive. Every error names the
 * plugin and FILE:LINE.
 */
export function parseForward(d: Directive, override?: readonly string[]): ForwardConfig {
  try {
    return parse(d, override);
  } catch (e) {
    if (e instanceof CorefileError && !e.reason.startsWith('forward:')) throw new CorefileError(e.file, e.line, `forward: ${e.reason}`);
    throw e;
  }
}

function parse(d: Directive, override: readonly string[] | undefined): ForwardConfig {
  const [fromTok, ...toToks] = argCount(d, 2, Infinity);
  const from = parseServerKey(fromTok!).zones;
  const toTexts = override && from.includes('.') ? override.map((text) => ({ ...d.name, text })) : toToks;
  const notes: string[] = [];
  const to = toTexts.flatMap((tok) => upstreamAddresses(tok, notes));
  if (to.length > MAX_UPSTREAMS) throw pluginError('forward', toTexts[0]!, `more than ${MAX_UPSTREAMS} upstreams (${to.length})`);

  const cfg: ForwardConfig = {
    forward: { from, except: [], forceTcp: false, preferUdp: false, maxConcurrent: 0, readTimeoutMs: 2000 },
    upstream: { expireMs: 10_000, forceTcp: false, maxFails: 2, health: { intervalMs: 500, recursion: true, domain: '.' } },
    to,
    policy: 'random',
    notes,
  };
  for (const sub of subdirectives(d)) option(d, sub, cfg);
  if (cfg.forward.forceTcp && cfg.forward.preferUdp) throw pluginError('forward', d.name, 'force_tcp and prefer_udp cannot both be set');
  cfg.upstream.forceTcp = cfg.forward.forceTcp;
  return cfg;
}

function option(d: Directive, sub: Directive, cfg: ForwardConfig): void {
  const name = `forward: ${sub.name.text}`;
  switch (sub.name.text) {
    case 'except':
      argCount(sub, 1, Infinity);
      cfg.forward.except.push(...zoneArgs(sub));
      return;
    case 'force_tcp':
      argCount(sub, 0);
      cfg.forward.forceTcp = true;
      return;
    case 'prefer_udp':
      argCount(sub, 0);
      cfg.forward.preferUdp = true;
      return;
    case 'expire':
      cfg.upstream.expireMs = parseDuration(argCount(sub, 1)[0]!, name);
      return;
    case 'max_fails':
      cfg.upstream.maxFails = parseUint(argCount(sub, 1)[0]!, name);
      return;
    case 'max_concurrent':
      cfg.forward.maxConcurrent = parseUint(argCount(sub, 1)[0]!, name);
      return;
    case 'read_timeout':
      cfg.forward.readTimeoutMs = positive(argCount(sub, 1)[0]!, name);
      return;
    case 'health_check':
      healthCheck(sub, cfg.upstream);
      return;
    case 'policy': {
      const tok = argCount(sub, 1)[0]!;
      if (!isPolicyName(tok.text)) throw pluginError('forward', tok, `unknown policy '${tok.text}' (expected ${POLICIES.join(', ')})`);
      cfg.policy = tok.text;
      return;
    }
    default:
      throw unknownSubdirective(d, sub);
  }
}

/** `health_check DUR [no_rec] [domain FQDN]` */
function healthCheck(sub: Directive, up: UpstreamOptions): void {
  const [dur, ...rest] = argCount(sub, 1, 4);
  up.health.intervalMs = positive(dur!, 'forward: health_check');
  for (let i = 0; i < rest.length; i++) {
    const tok = rest[i]!;
    if (tok.text === 'no_rec') up.health.recursion = false;
    else if (tok.text === 'domain' && rest[i + 1]) up.health.domain = parseServerKey(rest[++i]!).zones[0]!;
    else throw pluginError('forward', tok, `health_check: unknown option '${tok.text}' (expected no_rec or domain FQDN)`);
  }
}

function positive(tok: Token, name: string): number {
  const ms = parseDuration(tok, name);
  if (ms <= 0) throw CorefileError.at(tok, `${name}: must be greater than 0`);
  return ms;
}

/** An IP[:port], or a resolv.conf-style file whose nameserver lines are the upstreams. */
function upstreamAddresses(tok: Token, notes: string[]): Address[] {
  const addr = parseAddress(tok.text);
  if (addr) return [addr];
  if (!isFile(tok.text)) throw pluginError('forward', tok, `not an IP address[:port] or a file: '${tok.text}'`);
  const servers = resolvConfNameservers(readFileSync(tok.text, 'utf8'));
  if (servers.length === 0) throw pluginError('forward', tok, `no nameserver lines in ${tok.text}`);
  const addrs = servers.map((s) => {
    const a = parseAddress(s);
    if (!a) throw pluginError('forward', tok, `bad nameserver '${s}' in ${tok.text}`);
    return a;
  });
  if (!onlyResolvedStub(addrs)) return addrs;
  const real = resolvedUpstreams(tok);
  notes.push(`${tok.text} names only systemd-resolved's stub: forwarding to its upstreams from ${RESOLVED_UPSTREAMS} (${real.map((a) => a.label).join(', ')})`);
  return real;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
