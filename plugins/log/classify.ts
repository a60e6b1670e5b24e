// Response typing and classes, as CoreDNS plugin/pkg/response (typify.go,
// classify.go) decides them, read straight from the response wire bytes.

import { Rcode, Type } from '../../src/dns/constants.js';
import { questionsEnd, scanRecords, u16, type RRPos } from '../../src/dns/wire.js';

export type ResponseType = 'NOERROR' | 'NXDOMAIN' | 'SERVERERROR' | 'NODATA' | 'DELEGATION' | 'META' | 'UPDATE' | 'OTHERERROR';
export type ResponseClass = 'success' | 'denial' | 'error';

const OPCODE_NOTIFY = 4;
const OPCODE_UPDATE = 5;

/** CoreDNS response.Typify, minus the expired-RRSIG check (we sign nothing). */
export function typify(msg: Buffer, qtype: number): ResponseType {
  const flags = u16(msg, 2);
  const opcode = (flags >> 11) & 0xf;
  if (opcode === OPCODE_UPDATE) return 'UPDATE';
  if (opcode === OPCODE_NOTIFY) return 'META';
  if (qtype === Type.AXFR || qtype === Type.IXFR) return 'META';

  const rcode = flags & 0xf;
  const an = u16(msg, 6);
  if (an > 0 && rcode === Rcode.NOERROR) return 'NOERROR';
  if (an > 0 && rcode === Rcode.NXDOMAIN) return 'OTHERERROR';

  const { soa, ns } = authority(msg, an);
  if (soa && rcode === Rcode.NOERROR) return 'NODATA';
  if (rcode === Rcode.NXDOMAIN) return 'NXDOMAIN';
  if (rcode === Rcode.SERVFAIL || rcode === Rcode.NOTIMP) return 'SERVERERROR';
  if (ns && rcode === Rcode.NOERROR) return 'DELEGATION';
  if (rcode === Rcode.NOERROR) return 'NOERROR';
  return 'OTHERERROR';
}

export function classify(t: ResponseType): ResponseClass {
  switch (t) {
    case 'NOERROR':
    case 'DELEGATION':
      return 'success';
    case 'NXDOMAIN':
    case 'NODATA':
      return 'denial';
    default:
      return 'error';
  }
}

/** Whether the authority section holds an SOA / an NS; a malformed message holds neither. */
function authority(msg: Buffer, an: number): { soa: boolean; ns: boolean } {
  const rrs: RRPos[] = [];
  try {
    scanRecords(msg, questionsEnd(msg), an + u16(msg, 8), rrs);
  } catch {
    return { soa: false, ns: false };
  }
  let soa = false;
  let ns = false;
  for (let i = an; i < rrs.length; i++) {
    if (rrs[i]!.type === Type.SOA) soa = true;
    else if (rrs[i]!.type === Type.NS) ns = true;
  }
  return { soa, ns };
}
