// The `gossip { ... }` block → settings for the memberlist node. Every
// DefaultLANConfig value can be set; a `profile` picks the starting values
// and the explicit settings win whatever their order in the block.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, resolve } from 'node:path';
import { joinHostPort, splitHostPort, type HostPort } from '../../src/util/hostport.js';
import { argCount, parseDuration, parseUint, pluginError, subdirectives, unknownSubdirective } from '../../src/corefile/args.js';
import { CorefileError, type Directive, type Token } from '../../src/corefile/types.js';
import { isUnspecified, unreachableReason } from '../../src/gossip/address.js';
import { DEFAULT_PORT, type GossipConfig, type Logger, defaultLANConfig, defaultLocalConfig, defaultWANConfig } from '../../src/gossip/config.js';
import { Keyring } from '../../src/gossip/security.js';
import { encodeTags } from '../../src/gossip/serf.js';
import { PODSWARM_ROLE } from '../../src/replication/replicator.js';
import { canonicalAddress } from '../../src/registry/names.js';

/** Always in our node meta, so `serf members` tells podswarm-dns nodes apart. */
const ROLE_TAG = { role: PODSWARM_ROLE };
/** memberlist's limit for node meta. */
const META_MAX = 512;

const PROFILES = { lan: defaultLANConfig, wan: defaultWANConfig, local: defaultLocalConfig };
type Profile = keyof typeof PROFILES;

/** Settings that are plain values of GossipConfig. */
type Overrides = Partial<Omit<GossipConfig, 'name' | 'logger' | 'keyring' | 'tags'>>;

export interface GossipSettings {
  profile: Profile;
  overrides: Overrides;
  /** Base64 keys; the first one encrypts. */
  keys: string[];
  /** Serf's keyring file (absolute): read at start, rewritten when `serf keys` changes the keyring. */
  keyringFile?: string;
  /** Seeds `host:port` (`[ipv6]:port`) to join at start, retried until one answers. */
  join: string[];
  tags: Record<string, string>;
  /** serf's reconnect: how often to try one failed member again, and for how long. */
  reconnectIntervalMs: number;
  reconnectTimeoutMs: number;
  /** How long a gracefully departed member's endpoints stay in the answers (a restart keeps its containers running). */
  keepDepartedMs: number;
  /** How long a failed member's endpoints stay in the answers as last known good (0: out once declared dead). */
  keepDeadMs: number;
}

/** Defaults of keep_departed and keep_dead: a restart is no gap, a crash is out within the failure detection time. */
export const KEEP_DEPARTED_MS = 30_000;
export const KEEP_DEAD_MS = 0;

const DURATIONS = {
  probe_interval: 'probeIntervalMs',
  probe_timeout: 'probeTimeoutMs',
  gossip_interval: 'gossipIntervalMs',
  push_pull_interval: 'pushPullIntervalMs',
  gossip_to_the_dead: 'gossipToTheDeadTimeMs',
  tcp_timeout: 'tcpTimeoutMs',
} as const;

/** Durations of our own settings (not memberlist's), where 0 means never (reconnect) or not at all (keep). */
const OWN_DURATIONS = {
  reconnect_timeout: 'reconnectTimeoutMs',
  keep_departed: 'keepDepartedMs',
  keep_dead: 'keepDeadMs',
} as const;

const COUNTS = {
  suspicion_mult: ['suspicionMult', 1, 100],
  suspicion_max_timeout_mult: ['suspicionMaxTimeoutMult', 1, 100],
  awareness_max_multiplier: ['awarenessMaxMultiplier', 1, 100],
  indirect_checks: ['indirectChecks', 0, 64],
  gossip_nodes: ['gossipNodes', 0, 64],
  retransmit_mult: ['retransmitMult', 1, 100],
  udp_buffer_size: ['udpBufferSize', 512, 65_000],
  protocol_version: ['protocolVersion', 1, 5],
} as const;

const SWITCHES = {
  compression: 'enableCompression',
  verify_incoming: 'gossipVerifyIncoming',
  verify_outgoing: 'gossipVerifyOutgoing',
} as const;

export function parseGossip(d: Directive): GossipSettings {
  argCount(d, 0);
  const s: GossipSettings = {
    profile: 'lan',
    overrides: {},
    keys: [],
    join: [],
    tags: {},
    reconnectIntervalMs: 30_000,
    reconnectTimeoutMs: 24 * 3_600_000,
    keepDepartedMs: KEEP_DEPARTED_MS,
    keepDeadMs: KEEP_DEAD_MS,
  };
  const o = s.overrides;
  let advertiseTok: Token | undefined;
  for (const sub of subdirectives(d)) {
    const name = sub.name.text;
    const what = `gossip: ${name}`;
    if (name in DURATIONS) {
      const tok = argCount(sub, 1)[0]!;
      // 0 turns periodic push/pull off, and forgets dead nodes at once; the others need time
      const zeroOk = name === 'push_pull_interval' || name === 'gossip_to_the_dead';
      o[DURATIONS[name as keyof typeof DURATIONS]] = zeroOk ? parseDuration(tok, what) : positive(tok, what);
      continue;
    }
    if (name in OWN_DURATIONS) {
      s[OWN_DURATIONS[name as keyof typeof OWN_DURATIONS]] = parseDuration(argCount(sub, 1)[0]!, what);
      continue;
    }
    if (name in COUNTS) {
      const [key, min, max] = COUNTS[name as keyof typeof COUNTS];
      o[key] = parseUint(argCount(sub, 1)[0]!, what, min, max);
      continue;
    }
    if (name in SWITCHES) {
      o[SWITCHES[name as keyof typeof SWITCHES]] = onOff(argCount(sub, 1)[0]!, what);
      continue;
    }
    switch (name) {
      case 'bind':
        ({ host: o.bindAddr, port: o.bindPort } = ipPort(argCount(sub, 1)[0]!, what));
        break;
      case 'advertise':
        advertiseTok = argCount(sub, 1)[0]!;
        ({ host: o.advertiseAddr, port: o.advertisePort } = ipPort(advertiseTok, what));
        break;
      case 'join':
        for (const tok of argCount(sub, 1, Infinity)) {
          const { host, port } = hostPort(tok, what);
          s.join.push(joinHostPort(host, port));
        }
        break;
      case 'encrypt':
        if (s.keyringFile !== undefined) throw CorefileError.at(sub.name, `${what}: not with keyring_file, which holds every key`);
        s.keys.push(...argCount(sub, 1, Infinity).map((tok) => checkKey(tok, tok.text, what)));
        break;
      case 'keyring_file': {
        const tok = argCount(sub, 1)[0]!;
        if (s.keys.length > 0) throw CorefileError.at(sub.name, `${what}: not with encrypt: the keyring file holds every key`);
        if (s.keyringFile !== undefined) throw CorefileError.at(sub.name, `${what}: only one keyring_file`);
        s.keyringFile = resolve(dirname(tok.file), tok.text);
        // read now for the FILE:LINE error; the node reads it again at start, as `serf keys` may have changed it since
        readKeyring(s.keyringFile, (msg) => CorefileError.at(tok, `${what}: ${msg}`));
        break;
      }
      case 'label': {
        const tok = argCount(sub, 1)[0]!;
        if (Buffer.byteLength(tok.text) > 255) throw CorefileError.at(tok, `${what}: at most 255 bytes`);
        o.label = tok.text;
        break;
      }
      case 'profile': {
        const tok = argCount(sub, 1)[0]!;
        if (!(tok.text in PROFILES)) throw CorefileError.at(tok, `${what}: expected lan, wan or local, got '${tok.text}'`);
        s.profile = tok.text as Profile;
        break;
      }
      case 'disable_tcp_pings':
        argCount(sub, 0);
        o.disableTcpPings = true;
        break;
      case 'tags':
        for (const tok of argCount(sub, 1, Infinity)) {
          const i = tok.text.indexOf('=');
          if (i <= 0) throw CorefileError.at(tok, `${what}: expected KEY=VALUE, got '${tok.text}'`);
          const key = tok.text.slice(0, i);
          if (key in ROLE_TAG) throw CorefileError.at(tok, `${what}: '${key}' is reserved (always ${key}=${ROLE_TAG.role})`);
          s.tags[key] = tok.text.slice(i + 1);
        }
        if (encodeTags({ ...s.tags, ...ROLE_TAG }).length > META_MAX) throw CorefileError.at(sub.name, `${what}: the tags take more than ${META_MAX} bytes`);
        break;
      case 'reconnect_interval':
        s.reconnectIntervalMs = positive(argCount(sub, 1)[0]!, what);
        break;
      default:
        throw unknownSubdirective(d, sub);
    }
  }
  // peers could not send to an address of the other family than our sockets
  if (advertiseTok) {
    const why = unreachableReason(o.bindAddr ?? defaultLANConfig('').bindAddr, o.advertiseAddr!);
    if (why) throw pluginError('gossip', advertiseTok, `advertise: '${advertiseTok.text}': ${why}`);
  }
  return s;
}

/**
 * The memberlist config for these settings. On `0.0.0.0` the advertise address defaults to a private IPv4, as in
 * memberlist; on `::` too (the socket is dual-stack), where memberlist would advertise `::` itself.
 */
export function memberlistConfig(s: GossipSettings, name: string, logger: Logger): Partial<GossipConfig> & { name: string } {
  const c: Partial<GossipConfig> & { name: string } = {
    ...PROFILES[s.profile](name),
    ...s.overrides,
    name,
    logger,
    tags: { ...s.tags, ...ROLE_TAG },
    keyring: keyringOf(s),
    keyringFile: s.keyringFile,
  };
  if (isUnspecified(c.bindAddr!) && c.advertiseAddr === undefined) {
    c.advertiseAddr = privateIPv4();
    if (c.advertiseAddr === undefined) throw new Error(`gossip: bound to ${c.bindAddr} and no private IPv4 address found; set advertise`);
  }
  return c;
}

function privateIPv4(): string | undefined {
  const priv = /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal && priv.test(a.address)) return a.address;
  }
  return undefined;
}

/** `HOST[:PORT]`, `[IPV6][:PORT]` or a bare IPv6 address (which takes no port, as in memberlist). */
function hostPort(tok: Token, what: string): HostPort {
  try {
    return splitHostPort(tok.text, DEFAULT_PORT);
  } catch (err) {
    throw CorefileError.at(tok, `${what}: '${tok.text}': ${(err as Error).message}`);
  }
}

/** Like hostPort, with an IP address for the host (canonical text, so equal settings compare equal on reload). */
function ipPort(tok: Token, what: string): HostPort {
  const { host, port } = hostPort(tok, what);
  if (isIP(host) === 0) throw CorefileError.at(tok, `${what}: '${tok.text}': '${host}' is not an IP address (expected IPV4[:PORT], [IPV6][:PORT] or IPV6)`);
  return { host: canonicalAddress(host)!, port };
}

function onOff(tok: Token, what: string): boolean {
  if (tok.text !== 'on' && tok.text !== 'off') throw CorefileError.at(tok, `${what}: expected on or off, got '${tok.text}'`);
  return tok.text === 'on';
}

function positive(tok: Token, what: string): number {
  const ms = parseDuration(tok, what);
  if (ms === 0) throw CorefileError.at(tok, `${what}: must be more than 0`);
  return ms;
}

function isKey(key: string): boolean {
  const bytes = Buffer.from(key, 'base64');
  return bytes.toString('base64') === key && [16, 24, 32].includes(bytes.length);
}

function checkKey(tok: Token, key: string, what: string): string {
  if (!isKey(key)) throw CorefileError.at(tok, `${what}: a key must be base64 of 16, 24 or 32 bytes (serf keygen)`);
  return key;
}

function keyringOf(s: GossipSettings): Keyring | null {
  const keys = s.keyringFile !== undefined ? keyringFileKeys(s.keyringFile) : s.keys;
  return keys.length > 0 ? Keyring.fromBase64(...keys) : null;
}

/** The keys of a keyring file, primary first (read at start and on every reload). */
export function keyringFileKeys(file: string): string[] {
  return readKeyring(file, (msg) => new Error(`keyring_file: ${msg}`));
}

/** serf's keyring file: a JSON list of base64 keys, the primary first. */
function readKeyring(file: string, fail: (msg: string) => Error): string[] {
  let keys: unknown;
  try {
    keys = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw fail(`${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string')) {
    throw fail(`${file}: expected a JSON list of base64 keys`);
  }
  for (const k of keys) if (!isKey(k)) throw fail(`${file}: a key must be base64 of 16, 24 or 32 bytes (serf keygen)`);
  return keys;
}
