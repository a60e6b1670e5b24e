// The search-path optimisation, done correctly for the clients this node
// knows. A Kubernetes-style client (search <ns>.svc.<zone> svc.<zone> <zone>,
// ndots:5) sends an outside name through every search domain first, A and
// AAAA each: 8 queries for one lookup. When the first of them arrives
// (`X.<ns>.svc.<zone>`) from a container whose namespace libpod gave this node,
// the handler walks the rest of the list itself and answers with a CNAME to
// the name the walk would have ended at, and its records: 2 queries.
//
// The answer must be what walking gives, for a client asking A and AAAA
// together (glibc stops at the first name where either has records) and for
// one asking a single type (it stops where that type has records). So the
// walk finds F, the first name with records of either type, and answers:
//   F has the asked type         CNAME to F + its records (both clients stop at F)
//   no name has the asked type   CNAME to F, no records: both clients end with
//                                no records of that type, as they would have
//   a later name has it          not answered here: the client walks itself.
// A name that does not resolve at all is also left to the client.

import { matchZone, type Handler, type ResponseWriter, type Result } from '../../src/chain/plugin.js';
import { subquery, type SubAnswer } from '../../src/chain/subquery.js';
import { plainAddress } from '../../src/dns/address.js';
import { MessageBuilder, type RR } from '../../src/dns/builder.js';
import { Rcode, Type } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { localNamespace } from '../../src/registry/client-namespace.js';
import { canonicalAddress } from '../../src/registry/names.js';
import type { Registry } from '../../src/registry/registry.js';

export interface AutopathOptions {
  zones: string[];
  nodeName: string;
}

/** TTL of the CNAME when the name it points at has no records of the type (RFC 2308's negative TTL for NODATA). */
const NODATA_TTL = 5;

export class AutopathHandler implements Handler {
  readonly name = 'autopath';

  constructor(
    private readonly opts: AutopathOptions,
    private readonly registry: Registry,
    private readonly next: Handler,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    if (req.qtype !== Type.A && req.qtype !== Type.AAAA) return this.next.serveDNS(req, w);
    const zone = matchZone(req.qname, this.opts.zones);
    if (zone === undefined) return this.next.serveDNS(req, w);
    const client = canonicalAddress(plainAddress(req.peer.remoteAddress));
    const ns = client === undefined ? undefined : localNamespace(this.registry, client, this.opts.nodeName);
    const z = zone === '.' ? '' : zone;
    const first = `.${ns}.svc.${z}`;
    if (ns === undefined || !req.qname.endsWith(first) || req.qname.length === first.length) return this.next.serveDNS(req, w);
    const bare = req.qname.slice(0, -first.length);
    return this.walk(req, w, [req.qname, `${bare}.svc.${z}`, `${bare}.${z}`, `${bare}.`]);
  }

  private async walk(req: Request, w: ResponseWriter, names: string[]): Promise<number> {
    const other = req.qtype === Type.A ? Type.AAAA : Type.A;
    let found = -1;
    let asked: SubAnswer | undefined;
    for (let i = 0; i < names.length && found < 0; i++) {
      const [mine, theirs] = await Promise.all([subquery(this.next, req, names[i]!, req.qtype), subquery(this.next, req, names[i]!, other)]);
      if (!mine.complete) return this.next.serveDNS(req, w);
      if (hasAddresses(mine) || hasAddresses(theirs)) {
        found = i;
        asked = mine;
      }
    }
    // The asked name itself answers, or nothing does: the client gets the plain reply.
    if (found <= 0 || asked === undefined) return this.next.serveDNS(req, w);
    if (!hasAddresses(asked)) {
      for (const later of names.slice(found + 1)) {
        if (hasAddresses(await subquery(this.next, req, later, req.qtype))) return this.next.serveDNS(req, w);
      }
    }
    const target = names[found]!;
    const ttl = asked.answers.length > 0 ? Math.min(...asked.answers.map((rr) => rr.ttl)) : NODATA_TTL;
    const cname: RR = { name: req.qname, ttl, data: { type: Type.CNAME, target } };
    const b = new MessageBuilder(req, Rcode.NOERROR);
    for (const rr of [cname, ...asked.answers]) b.answer(rr);
    w.write(b.finish());
    return Rcode.NOERROR;
  }
}

/** A NOERROR answer with at least one A or AAAA record (not only a CNAME to nowhere). */
function hasAddresses(a: SubAnswer): boolean {
  return a.rcode === Rcode.NOERROR && a.answers.some((rr) => rr.data.type === Type.A || rr.data.type === Type.AAAA);
}
