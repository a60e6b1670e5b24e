// The OPT record this server puts in its replies (RFC 6891): root owner, our
// UDP payload size, the extended rcode bits, version 0, the client's DO bit,
// no options. One writer for built, cached and forwarded replies alike.

import { Type } from './constants.js';

export const OPT_LEN = 11;

/** Writes our OPT at `at` in `out` (OPT_LEN bytes); returns the offset after it. */
export function writeOpt(out: Buffer, at: number, udpSize: number, rcode: number, dnssecOk: boolean): number {
  out[at] = 0; // root owner
  out.writeUInt16BE(Type.OPT, at + 1);
  out.writeUInt16BE(udpSize, at + 3);
  out[at + 5] = (rcode >> 4) & 0xff; // extended rcode bits
  out[at + 6] = 0; // version
  out.writeUInt16BE(dnssecOk ? 0x8000 : 0, at + 7);
  out.writeUInt16BE(0, at + 9);
  return at + OPT_LEN;
}
