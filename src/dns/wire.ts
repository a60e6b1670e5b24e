// Bounds-checked DNS wire reading for the hot path: header, names, question,
// and a record scanner. Anything malformed throws WireError; callers turn it
// into FORMERR or a drop.

import type { Latin1Buffer } from '../util/buffers.js';
import { nameString } from './name-strings.js';

export class WireError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'WireError';
  }
}

export const HEADER_LEN = 12;
const MAX_NAME = 255;
const MAX_POINTERS = 64;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function u16(buf: Buffer, off: number): number {
  if (off + 2 > buf.length) throw new WireError('message truncated');
  return (buf[off]! << 8) | buf[off + 1]!;
}

export function u32(buf: Buffer, off: number): number {
  if (off + 4 > buf.length) throw new WireError('message truncated');
  return buf.readUInt32BE(off);
}

/** Presentation bytes of the name being read; a name is at most 255 octets, escapes at most 4× that. */
const NAME_SCRATCH = Buffer.allocUnsafe(1024) as Latin1Buffer;

/**
 * Reads a possibly compressed name at `off`. Returns the presentation form,
 * lowercased when `lower` is set, always with a trailing dot, and the offset
 * just past the name's bytes at `off`. Pointers must point backwards, which
 * also rules out loops; a jump cap guards the rest.
 */
export function readName(buf: Buffer, off: number, lower = true): { name: string; end: number } {
  const out = NAME_SCRATCH;
  let n = 0;
  let end = -1;
  let pos = off;
  let jumps = 0;
  let wireLen = 1;
  // FNV-1a of the name as read, for nameString: one multiply per byte here instead of a second pass there.
  let hash = FNV_OFFSET;
  for (;;) {
    if (pos >= buf.length) throw new WireError('name runs past the end of the message');
    const len = buf[pos]!;
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) throw new WireError('compression pointer truncated');
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (end < 0) end = pos + 2;
      if (target >= pos || ++jumps > MAX_POINTERS) throw new WireError('bad compression pointer');
      pos = target;
      continue;
    }
    if (kind !== 0) throw new WireError('unsupported label type');
    wireLen += len + 1;
    if (wireLen > MAX_NAME) throw new WireError('name longer than 255 octets');
    if (pos + 1 + len > buf.length) throw new WireError('label runs past the end of the message');
    for (let i = pos + 1; i <= pos + len; i++) {
      let c = buf[i]!;
      if (lower && c >= 0x41 && c <= 0x5a) c |= 0x20;
      hash = Math.imul(hash ^ c, FNV_PRIME);
      if (c === 0x2e || c === 0x5c) {
        out[n++] = 0x5c;
      } else if (c < 0x21 || c > 0x7e) {
        // \DDD for bytes without a printable form
        out[n++] = 0x5c;
        out[n++] = 0x30 + ((c / 100) | 0);
        out[n++] = 0x30 + (((c / 10) | 0) % 10);
        c = 0x30 + (c % 10);
      }
      out[n++] = c;
    }
    out[n++] = 0x2e;
    hash = Math.imul(hash ^ 0x2e, FNV_PRIME);
    pos += len + 1;
  }
  return { name: n === 0 ? '.' : nameString(out, n, hash & 0x3fffffff), end };
}

/** Offset just past the name at `off`, without decoding it. */
export function skipName(buf: Buffer, off: number): number {
  let pos = off;
  for (;;) {
    if (pos >= buf.length) throw new WireError('name runs past the end of the message');
    const len = buf[pos]!;
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 2 > buf.length) throw new WireError('compression pointer truncated');
      return pos + 2;
    }
    if ((len & 0xc0) !== 0) throw new WireError('unsupported label type');
    pos += len + 1;
  }
}

/** Where one resource record's parts lie in the message. */
export interface RRPos {
  start: number;
  type: number;
  ttlOffset: number;
  rdataOffset: number;
  end: number;
}

/** Scans `count` records from `off`; bounds-checked. */
export function scanRecords(buf: Buffer, off: number, count: number, out: RRPos[]): number {
  let pos = off;
  for (let i = 0; i < count; i++) {
    const start = pos;
    pos = skipName(buf, pos);
    const type = u16(buf, pos);
    const rdlen = u16(buf, pos + 8);
    const rdataOffset = pos + 10;
    const end = rdataOffset + rdlen;
    if (end > buf.length) throw new WireError('record data runs past the end of the message');
    out.push({ start, type, ttlOffset: pos + 4, rdataOffset, end });
    pos = end;
  }
  return pos;
}

/** Section counts from the header. */
export function counts(buf: Buffer): { qd: number; an: number; ns: number; ar: number } {
  return { qd: u16(buf, 4), an: u16(buf, 6), ns: u16(buf, 8), ar: u16(buf, 10) };
}

/** Offset of the first answer record (after all questions). */
export function questionsEnd(buf: Buffer): number {
  let pos = HEADER_LEN;
  const qd = u16(buf, 4);
  for (let i = 0; i < qd; i++) pos = skipName(buf, pos) + 4;
  if (pos > buf.length) throw new WireError('question truncated');
  return pos;
}

/** Converts a presentation name ("a.b.") to wire labels; throws on bad labels. */
export function nameToWire(name: string): Buffer {
  if (name === '.' || name === '') return Buffer.from([0]);
  const parts: number[] = [];
  const labels = splitLabels(name);
  for (const label of labels) {
    if (label.length === 0) throw new WireError(`empty label in ${name}`);
    if (label.length > 63) throw new WireError(`label longer than 63 octets in ${name}`);
    parts.push(label.length, ...label);
  }
  parts.push(0);
  if (parts.length > MAX_NAME) throw new WireError(`name longer than 255 octets: ${name}`);
  return Buffer.from(parts);
}

/** Splits a presentation name into label byte arrays, honouring `\.` and `\DDD` escapes. */
export function splitLabels(name: string): number[][] {
  const labels: number[][] = [];
  let cur: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch === 0x5c && i + 1 < name.length) {
      const d = name.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(d)) {
        cur.push(Number(d) & 0xff);
        i += 3;
      } else {
        cur.push(name.charCodeAt(++i) & 0xff);
      }
    } else if (ch === 0x2e) {
      labels.push(cur);
      cur = [];
    } else {
      cur.push(ch & 0xff);
    }
  }
  if (cur.length > 0) labels.push(cur);
  return labels;
}
