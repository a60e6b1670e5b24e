// EDNS0 (RFC 6891), all of it: the OPT record of a query read, the UDP sizes
// that follow from it, the versions we speak, and the one writer of the OPT
// this server puts in its replies (root owner, our UDP payload size, the
// extended rcode bits, version 0, the client's DO bit, no options), for
// built, cached and forwarded replies and for the queries forward sends.

import { Type } from './constants.js';
import { WireError, scanRecords, skipName, u16, type RRPos } from './wire.js';

/** What a query's OPT record says. */
export interface Edns {
  udpSize: number;
  version: number;
  do: boolean;
  /** Raw option bytes (RDATA of the OPT record), echoed by nobody but readable by plugins. */
  options: Buffer;
}

/** Advertised EDNS UDP payload size (the DNS Flag Day 2020 value); `bufsize` sets another per block. */
export const OUR_UDP_SIZE = 1232;

/** The size every DNS client accepts over UDP, and the floor of what EDNS may advertise. */
const CLASSIC_UDP_SIZE = 512;

/** The EDNS version we speak; a query with a higher one is answered BADVERS. */
const EDNS_VERSION = 0;

export const OPT_LEN = 11;

/** True when the query asks for an EDNS version we do not speak (RFC 6891 section 6.1.3: BADVERS). */
export function unsupportedVersion(edns: Edns | null): boolean {
  return edns !== null && edns.version > EDNS_VERSION;
}

/** Largest UDP reply the client accepts (CoreDNS request.Size): 512 without EDNS. */
export function clientUdpSize(edns: Edns | null): number {
  return edns ? Math.max(CLASSIC_UDP_SIZE, edns.udpSize) : CLASSIC_UDP_SIZE;
}

/**
 * Largest UDP reply we send: the smaller of what the client accepts and what
 * we advertise, so no reply fragments (DNS Flag Day 2020).
 */
export function udpReplyLimit(edns: Edns | null, serverUdpSize: number): number {
  return edns ? Math.min(clientUdpSize(edns), Math.max(CLASSIC_UDP_SIZE, serverUdpSize)) : CLASSIC_UDP_SIZE;
}

const scratch: RRPos[] = [];

/**
 * The OPT record of a query whose question ends at `off`, or null without
 * one. Throws WireError for a malformed one, a second one, or records that
 * run past the message.
 */
export function readEdns(wire: Buffer, off: number): Edns | null {
  const an = u16(wire, 6);
  const ns = u16(wire, 8);
  const ar = u16(wire, 10);
  if (ar === 0) return null;
  let pos = off;
  if (an + ns > 0) {
    scratch.length = 0;
    pos = scanRecords(wire, pos, an + ns, scratch);
  }
  let edns: Edns | null = null;
  for (let i = 0; i < ar; i++) {
    const nameEnd = skipName(wire, pos);
    const type = u16(wire, nameEnd);
    const rdlen = u16(wire, nameEnd + 8);
    const end = nameEnd + 10 + rdlen;
    if (end > wire.length) throw new WireError('record data runs past the end of the message');
    if (type === Type.OPT) {
      if (edns) throw new WireError('more than one OPT record');
      if (nameEnd !== pos + 1) throw new WireError('OPT owner name is not the root');
      const ttl = wire.readUInt32BE(nameEnd + 4);
      edns = {
        udpSize: u16(wire, nameEnd + 2),
        version: (ttl >>> 16) & 0xff,
        do: (ttl & 0x8000) !== 0,
        options: wire.subarray(nameEnd + 10, end),
      };
    }
    pos = end;
  }
  return edns;
}

/** Writes our OPT at `at` in `out` (OPT_LEN bytes); returns the offset after it. */
export function writeOpt(out: Buffer, at: number, udpSize: number, rcode: number, dnssecOk: boolean): number {
  out[at] = 0; // root owner
  out.writeUInt16BE(Type.OPT, at + 1);
  out.writeUInt16BE(udpSize, at + 3);
  out[at + 5] = (rcode >> 4) & 0xff; // extended rcode bits
  out[at + 6] = EDNS_VERSION;
  out.writeUInt16BE(dnssecOk ? 0x8000 : 0, at + 7);
  out.writeUInt16BE(0, at + 9);
  return at + OPT_LEN;
}
