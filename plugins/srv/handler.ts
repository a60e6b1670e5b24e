// SRV answers for named ports: `_<port>._<proto>.<svc>.<ns>[.svc].<zone>`
// gives one SRV per healthy endpoint serving that port; `<svc>.<ns>.<zone>`
// SRV lists every named port. Targets' addresses go in the additional
// section. Every other query goes on to the next plugin (cluster).

import { isIPv4 } from 'node:net';
import type { Handler, ResponseWriter } from '../../src/chain/plugin.js';
import { matchZone } from '../../src/chain/plugin.js';
import type { RR } from '../../src/dns/builder.js';
import { Rcode, Type } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { addressBytes } from '../../src/dns/address.js';
import type { Registry } from '../../src/registry/registry.js';
import type { Endpoint, ServicePort } from '../../src/registry/types.js';
import { endpointFqdn, parseClusterName } from '../../src/registry/cluster-names.js';
import { answerReply, negativeReply, nsName } from '../../src/dns/zone-replies.js';
import { AnswerMemo } from '../../src/dns/answer-memo.js';
import { sameNodeOrder, sameNodePriority, type SameNode } from '../../src/registry/same-node.js';

export interface SrvOptions {
  zones: string[];
  ttl: number;
  /** TTL of NXDOMAIN and NODATA answers (their SOA's TTL and MINIMUM). */
  negativeTtl: number;
  /** This node's endpoints first (SRV priority) or only; see src/registry/same-node.ts. */
  sameNode: SameNode;
  nodeName: string;
}

export class SrvHandler implements Handler {
  readonly name = 'srv';
  /** Replies already built; the setup clears it whenever the registry changes. */
  readonly memo = new AnswerMemo();

  constructor(
    private readonly opts: SrvOptions,
    private readonly registry: Registry,
    private readonly next: Handler,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): number | Promise<number> {
    if (req.qtype !== Type.SRV && req.qtype !== Type.ANY) return this.next.serveDNS(req, w);
    const zone = matchZone(req.qname, this.opts.zones);
    if (zone === undefined) return this.next.serveDNS(req, w);
    // The memo holds only replies this plugin built, so a hit needs no name parsing.
    const hit = this.memo.serve(req, w);
    if (hit !== undefined) return hit;
    // ns.dns.<zone> parses as a service but is the zone's name server: cluster's (NODATA for SRV).
    if (req.qname === nsName(zone)) return this.next.serveDNS(req, w);
    const name = parseClusterName(req.qname, zone);
    // ANY at a named port is its SRV records (RFC 8482: the records, or some); elsewhere cluster's addresses.
    if (name.kind !== 'port' && (name.kind !== 'service' || req.qtype === Type.ANY)) return this.next.serveDNS(req, w);

    const view = this.registry.lookup(name.ns, name.svc);
    const wanted = (p: ServicePort): boolean => name.kind === 'service' || (p.name === name.port && p.protocol === name.proto);
    const answers: RR[] = [];
    const additional: RR[] = [];
    const targets = new Set<string>();
    const { sameNode, nodeName } = this.opts;
    const eps = sameNodeOrder(view?.healthy ?? [], nodeName, sameNode);
    const matches: Array<[Endpoint, ServicePort]> = [];
    for (const e of eps) for (const p of e.ports) if (wanted(p)) matches.push([e, p]);
    // An endpoint's own weight, else an equal share (as before weights existed).
    const share = matches.length === 0 ? 0 : Math.max(1, Math.floor(100 / matches.length));
    for (const [e, p] of matches) {
      const target = endpointFqdn(e.name, name.svc, name.ns, zone);
      const priority = sameNodePriority(e, nodeName, sameNode);
      answers.push({ name: req.qname, ttl: this.opts.ttl, data: { type: Type.SRV, priority, weight: e.weight ?? share, port: p.port, target } });
      if (!targets.has(target)) {
        targets.add(target);
        additional.push({ name: target, ttl: this.opts.ttl, data: { type: isIPv4(e.address) ? Type.A : Type.AAAA, address: addressBytes(e.address) } });
      }
    }
    // A service with healthy endpoints but no named ports exists: NODATA.
    const rcode = answers.length > 0 || (name.kind === 'service' && eps.length > 0) ? Rcode.NOERROR : Rcode.NXDOMAIN;
    const msg = answers.length > 0 ? answerReply(req, answers, additional) : negativeReply(req, rcode, zone, this.opts.negativeTtl, this.registry.index);
    this.memo.store(req, msg, rcode);
    w.write(msg);
    return rcode;
  }
}
