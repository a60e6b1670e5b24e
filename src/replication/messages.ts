// The anti-entropy messages podswarm-dns nodes send each other (and nobody
// else) beside entry payloads (validate.ts): a format byte, then JSON.
//   sum    {from, hash, count}              "this is all I hold, in one hash"
//   digest {from, owners, full, ask}        per owner [max version, count, hash]
// A sum that differs from the receiver's is answered with a full digest; a
// digest is answered with the entries the sender lacks, and (when it asks)
// with a digest of the owners the receiver lacks, so both end equal.
// Everything here comes from the network and is checked before use.
import type { OwnerDigest } from './store.js';
import { FORMAT_DIGEST, FORMAT_SUM, MAX_FUTURE_MS, MAX_OWNERS, isObject, isOwnerName } from './validate.js';

export interface SumMessage {
  from: string;
  hash: string;
  count: number;
}

export interface DigestMessage {
  from: string;
  owners: Record<string, OwnerDigest>;
  /** Lists every owner the sender knows: an owner it does not list, it lacks. */
  full: boolean;
  /** The sender wants a digest back for the owners where it has more. */
  ask: boolean;
}

export type ControlMessage = { kind: 'sum'; msg: SumMessage } | { kind: 'digest'; msg: DigestMessage };

export function encodeSum(m: SumMessage): Buffer {
  return frame(FORMAT_SUM, m);
}

export function encodeDigest(m: DigestMessage): Buffer {
  return frame(FORMAT_DIGEST, m);
}

function frame(format: number, m: object): Buffer {
  return Buffer.concat([Buffer.from([format]), Buffer.from(JSON.stringify(m), 'utf8')]);
}

const HASH = /^[0-9a-f]{16}$/;

/** Decodes a sum or digest; throws an Error that says what is wrong. */
export function decodeControl(buf: Buffer, now = Date.now()): ControlMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(buf.subarray(1).toString('utf8'));
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) throw new Error('not an object');
  if (!isNodeName(raw.from)) throw new Error('from is not a node name');
  if (buf[0] === FORMAT_SUM) {
    if (typeof raw.hash !== 'string' || !HASH.test(raw.hash)) throw new Error('hash is not 16 hex digits');
    if (!isCount(raw.count)) throw new Error('count is not a count');
    return { kind: 'sum', msg: { from: raw.from, hash: raw.hash, count: raw.count } };
  }
  if (buf[0] !== FORMAT_DIGEST) throw new Error(`unknown message format ${buf[0]}`);
  if (!isObject(raw.owners)) throw new Error('owners is not an object');
  const owners: Record<string, OwnerDigest> = Object.create(null);
  let n = 0;
  for (const [owner, d] of Object.entries(raw.owners)) {
    if (++n > MAX_OWNERS) throw new Error(`more than ${MAX_OWNERS} owners`);
    if (!isNodeName(owner)) throw new Error('an owner is not a node name');
    if (!Array.isArray(d) || d.length !== 3) throw new Error('an owner digest is not [max, count, hash]');
    const [max, count, hash] = d as unknown[];
    if (!Number.isSafeInteger(max) || (max as number) < 0 || (max as number) > now + MAX_FUTURE_MS) throw new Error('an owner digest has a bad version');
    if (!isCount(count)) throw new Error('an owner digest has a bad count');
    if (typeof hash !== 'string' || !HASH.test(hash)) throw new Error('an owner digest has a bad hash');
    owners[owner] = [max as number, count, hash];
  }
  return { kind: 'digest', msg: { from: raw.from, owners, full: raw.full === true, ask: raw.ask === true } };
}

function isCount(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

function isNodeName(x: unknown): x is string {
  return typeof x === 'string' && isOwnerName(x);
}
