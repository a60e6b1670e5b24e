// RFC 8482 section 4.2: answer ANY with one synthesised HINFO instead of
// everything known about the name, so ANY cannot be used for amplification.

import type { Handler, ResponseWriter, Result } from '../../src/chain/plugin.js';
import { MessageBuilder } from '../../src/dns/builder.js';
import { Rcode, Type } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';

/** TTL CoreDNS gives the HINFO (the RFC number). */
export const HINFO_TTL = 8482;

export class AnyHandler implements Handler {
  readonly name = 'any';

  constructor(private readonly next: Handler) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    if (req.qtype !== Type.ANY) return this.next.serveDNS(req, w);
    const msg = new MessageBuilder(req, Rcode.NOERROR).answer({ name: req.qname, ttl: HINFO_TTL, data: { type: Type.HINFO, cpu: 'RFC8482', os: '' } }).finish();
    w.write(msg);
    return Rcode.NOERROR;
  }
}
