// The authoritative pieces every registry-zone answer shares (cluster, srv),
// in the core so those plugins need not import each other: SOA, NS and
// the negative answers (NXDOMAIN/NODATA) that carry the SOA. Builders
// return the reply so the handlers can memoise it before writing.

import { MessageBuilder, type RR } from './builder.js';
import { Rcode, Type } from './constants.js';
import type { Request } from './request.js';

/**
 * The zone's SOA; `serial` follows the registry index so secondaries and caches
 * see changes. MINIMUM is the negative TTL (RFC 2308 section 4): a cache keeps a
 * negative answer for the smaller of the SOA's own TTL and its MINIMUM. Its
 * server and mailbox are named under `nameZone` (a reverse zone's are under the
 * forward zone, where `ns.dns` resolves).
 */
export function soaRecord(zone: string, ttl: number, negativeTtl: number, serial: number, nameZone = zone): RR {
  const z = nameZone === '.' ? '' : nameZone;
  return {
    name: zone,
    ttl: Math.min(ttl, 300),
    data: {
      type: Type.SOA,
      mname: `ns.dns.${z}`,
      rname: `hostmaster.${z}`,
      serial,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: negativeTtl,
    },
  };
}

/**
 * NXDOMAIN or NODATA (NOERROR, empty answer) with the SOA in authority, whose
 * TTL and MINIMUM are both the negative TTL, so every cache downstream keeps it that long.
 */
export function negativeReply(
  req: Request,
  rcode: typeof Rcode.NXDOMAIN | typeof Rcode.NOERROR,
  zone: string,
  negativeTtl: number,
  serial: number,
  nameZone = zone,
): Buffer {
  return new MessageBuilder(req, rcode, { aa: true }).authority(soaRecord(zone, negativeTtl, negativeTtl, serial, nameZone)).finish();
}

/** The name server every zone of the plugin names: `ns.dns.<zone>`, which answers with the address asked. */
export function nsName(zone: string): string {
  return zone === '.' ? 'ns.dns.' : `ns.dns.${zone}`;
}

/** A positive authoritative answer: answer records, optional additional ones. */
export function answerReply(req: Request, answers: RR[], additional: RR[] = []): Buffer {
  const m = new MessageBuilder(req, Rcode.NOERROR, { aa: true });
  for (const rr of answers) m.answer(rr);
  for (const rr of additional) m.additional(rr);
  return m.finish();
}
