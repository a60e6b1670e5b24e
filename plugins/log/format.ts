// The log format: placeholders ({type}, {>id}, ...) compiled once at setup
// into literal and value parts, so a query line costs one pass and no
// regular expressions (CoreDNS plugin/pkg/replacer).

import { Class, Flag, rcodeName, typeName } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { bracketHost } from '../../src/util/hostport.js';
import { classify, typify, type ResponseType } from './classify.js';

/** What one log line is made from: the query, and the response as written. */
export interface Entry {
  req: Request;
  /** The qname as the client asked it (a later plugin may rewrite req.qname). */
  name: string;
  /** The response as handed to the server, before any truncation. */
  msg: Buffer;
  /** When the log plugin passed the query on, and when the reply came back (hrtime ns). */
  start: bigint;
  end: bigint;
  /** Filled on first use: classification scans the response. */
  rtype?: ResponseType;
}

const EMPTY = '-';
export const COMMON_FORMAT = `{remote}:{port} ${EMPTY} {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}`;
export const COMBINED_FORMAT = `${COMMON_FORMAT} "{>opcode}"`;
export const DEFAULT_FORMAT = COMMON_FORMAT;

type Value = (e: Entry) => string;

const LABELS: Record<string, Value> = {
  '{type}': (e) => typeName(e.req.qtype),
  '{name}': (e) => e.name,
  '{class}': (e) => className(e.req.qclass),
  '{proto}': (e) => e.req.peer.proto,
  '{size}': (e) => String(e.req.wire.length),
  '{remote}': (e) => rfc3986(e.req.peer.remoteAddress),
  '{port}': (e) => String(e.req.peer.remotePort),
  '{local}': (e) => rfc3986(e.req.peer.localAddress),
  '{>id}': (e) => String(e.req.id),
  '{>opcode}': (e) => String(e.req.opcode),
  '{>do}': (e) => String(e.req.do),
  '{>bufsize}': (e) => String(e.req.clientMaxSize),
  '{rcode}': (e) => rcodeText(e.msg[3]! & 0xf),
  '{rsize}': (e) => String(e.msg.length),
  '{duration}': (e) => seconds(e.end - e.start),
  '{>rflags}': (e) => flagsText((e.msg[2]! << 8) | e.msg[3]!),
};

/** Metadata the log plugin itself provides (CoreDNS sets these for the metadata plugin). */
const METADATA: Record<string, Value> = {
  'log/type': (e) => responseType(e),
  'log/class': (e) => classify(responseType(e)),
};

export interface Format {
  readonly parts: readonly (string | Value)[];
}

/**
 * Splits `s` into literals and placeholders the way CoreDNS does: find a `}`,
 * back up to the nearest `{`; an unknown `{x}` stays literal, and `{/x}` is
 * metadata (`-` unless it is one the log plugin sets).
 */
export function compileFormat(s: string): Format {
  const parts: (string | Value)[] = [];
  let literal = '';
  for (;;) {
    const j = s.indexOf('}');
    if (j < 0) break;
    const i = s.lastIndexOf('{', j);
    const token = i < 0 ? undefined : s.slice(i, j + 1);
    const value = token === undefined ? undefined : (LABELS[token] ?? (token.startsWith('{/') ? metadata(token.slice(2, -1)) : undefined));
    if (value === undefined) {
      literal += s.slice(0, j + 1);
    } else {
      literal += s.slice(0, i);
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(value);
    }
    s = s.slice(j + 1);
  }
  literal += s;
  if (literal !== '') parts.push(literal);
  return { parts };
}

export function render(f: Format, e: Entry): string {
  let out = '';
  for (const p of f.parts) out += typeof p === 'string' ? p : p(e);
  return out;
}

/** The response's CoreDNS type, computed once per entry. */
export function responseType(e: Entry): ResponseType {
  if (e.rtype === undefined) e.rtype = typify(e.msg, e.req.qtype);
  return e.rtype;
}

function metadata(label: string): Value {
  return METADATA[label] ?? (() => EMPTY);
}

const CLASS_NAMES = new Map<number, string>(Object.entries(Class).map(([k, v]) => [v, k]));

function className(c: number): string {
  return CLASS_NAMES.get(c) ?? `CLASS${c}`;
}

/** CoreDNS prints unknown rcodes as plain numbers. */
function rcodeText(r: number): string {
  const name = rcodeName(r);
  return name.startsWith('RCODE') ? String(r) : name;
}

const FLAG_NAMES: [number, string][] = [
  [Flag.QR, 'qr'],
  [Flag.AA, 'aa'],
  [Flag.TC, 'tc'],
  [Flag.RD, 'rd'],
  [Flag.RA, 'ra'],
  [0x0040, 'z'],
  [Flag.AD, 'ad'],
  [Flag.CD, 'cd'],
];

function flagsText(flags: number): string {
  let out = '';
  for (const [bit, name] of FLAG_NAMES) if (flags & bit) out += out === '' ? name : `,${name}`;
  return out;
}

/** IPv6 in brackets; an IPv4-mapped address prints as IPv4, as Go's net.IP does. */
function rfc3986(addr: string): string {
  if (addr.startsWith('::ffff:') && addr.includes('.')) return addr.slice(7);
  return bracketHost(addr);
}

/** Go's strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s": shortest digits, never an exponent. */
function seconds(ns: bigint): string {
  if (ns < 1000n) return ns <= 0n ? '0s' : `0.${String(ns).padStart(9, '0').replace(/0+$/, '')}s`;
  return `${Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9}s`;
}
