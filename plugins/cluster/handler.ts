// Answers A/AAAA (and PTR, SOA, NS) for the cluster zone from the registry:
// only healthy endpoints, authoritative, negative answers with the SOA.
// Built replies are memoised until the registry changes.

import { isIPv4 } from 'node:net';
import type { Handler, ResponseWriter } from '../../src/chain/plugin.js';
import { matchZone } from '../../src/chain/plugin.js';
import { fallsThrough } from '../../src/chain/fallthrough.js';
import type { RR } from '../../src/dns/builder.js';
import { addressBytes } from '../../src/dns/address.js';
import { AnswerMemo } from '../../src/dns/answer-memo.js';
import { Rcode, Type } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import type { Registry } from '../../src/registry/registry.js';
import type { Endpoint } from '../../src/registry/types.js';
import { endpointFqdn, parseClusterName } from '../../src/registry/cluster-names.js';
import { addressFromReverse, isReverseZone } from '../../src/dns/reverse-name.js';
import { ReverseParents } from './reverse-parents.js';
import { answerReply, negativeReply, nsName, soaRecord } from '../../src/dns/zone-replies.js';
import { sameNodeOrder, type SameNode } from '../../src/registry/same-node.js';

export interface ClusterOptions {
  zones: string[];
  ttl: number;
  /** TTL of NXDOMAIN and NODATA answers (their SOA's TTL and MINIMUM). */
  negativeTtl: number;
  /** Zones where NXDOMAIN hands the query to the next plugin instead; null: never. */
  fallthrough: string[] | null;
  /** This node's endpoints first or only in A/AAAA answers; see src/registry/same-node.ts. */
  sameNode: SameNode;
  nodeName: string;
}

/** What a lookup found: a built positive reply, or which negative answer to give. */
type Outcome = Buffer | typeof NXDOMAIN | typeof NODATA;
const NXDOMAIN = Rcode.NXDOMAIN;
const NODATA = -1;

export class ClusterHandler implements Handler {
  readonly name = 'cluster';
  /** Replies already built; the setup clears it whenever the registry changes. */
  readonly memo = new AnswerMemo();
  /** The first forward zone: PTR targets, and the reverse zones' name server, are named under it. */
  private readonly nameZone: string;
  private readonly reverseParents: ReverseParents;

  constructor(
    private readonly opts: ClusterOptions,
    private readonly registry: Registry,
    private readonly next: Handler,
  ) {
    this.nameZone = opts.zones.find((z) => !isReverseZone(z)) ?? 'cluster.local.';
    this.reverseParents = new ReverseParents(registry);
  }

  serveDNS(req: Request, w: ResponseWriter): number | Promise<number> {
    const zone = matchZone(req.qname, this.opts.zones);
    if (zone === undefined) return this.next.serveDNS(req, w);
    const hit = this.memo.serve(req, w);
    if (hit !== undefined) return hit;

    const outcome = isReverseZone(zone) ? this.reverse(req, zone) : this.forward(req, zone);
    if (outcome === NXDOMAIN && fallsThrough(this.opts.fallthrough, req.qname)) return this.next.serveDNS(req, w);
    const rcode = outcome === NXDOMAIN ? Rcode.NXDOMAIN : Rcode.NOERROR;
    const msg = typeof outcome === 'number' ? negativeReply(req, rcode, zone, this.opts.negativeTtl, this.registry.index, this.soaNames(zone)) : outcome;
    // NS answers carry the address the query arrived on, so they are not memoised.
    if (req.qtype !== Type.NS && req.qtype !== Type.ANY && !req.qname.startsWith('ns.dns.')) this.memo.store(req, msg, rcode);
    w.write(msg);
    return rcode;
  }

  private forward(req: Request, zone: string): Outcome {
    // ns.dns.<zone> has two labels, so it parses as a service: check it first.
    const ns = nsName(zone);
    if (req.qname === ns) return this.nsAddress(req);
    // Its parent dns.<zone> owns nothing but exists (an empty non-terminal).
    if (req.qname === ns.slice('ns.'.length)) return NODATA;
    const name = parseClusterName(req.qname, zone);
    const ttl = this.opts.ttl;
    switch (name.kind) {
      case 'apex':
        return this.apex(req, zone);
      case 'svc':
        return this.registry.services().length > 0 ? NODATA : NXDOMAIN;
      case 'namespace':
        return this.registry.hasNamespace(name.ns) ? NODATA : NXDOMAIN;
      case 'service': {
        const view = this.registry.lookup(name.ns, name.svc);
        if (!view || view.healthy.length === 0) return NXDOMAIN;
        return this.addresses(req, sameNodeOrder(view.healthy, this.opts.nodeName, this.opts.sameNode), ttl);
      }
      case 'endpoint': {
        const ep = this.registry.lookup(name.ns, name.svc)?.healthy.find((e) => e.name === name.endpoint);
        return ep ? this.addresses(req, [ep], ttl) : NXDOMAIN;
      }
      case 'proto': {
        // _<proto>.<svc>.<ns> exists while a named port of that protocol does.
        const view = this.registry.lookup(name.ns, name.svc);
        return view?.healthy.some((e) => e.ports.some((p) => p.protocol === name.proto)) ? NODATA : NXDOMAIN;
      }
      case 'port': {
        // The name exists when healthy endpoints serve that port; SRV itself is
        // the srv plugin's answer, every other type is NODATA here.
        const view = this.registry.lookup(name.ns, name.svc);
        const has = view?.healthy.some((e) => e.ports.some((p) => p.name === name.port && p.protocol === name.proto));
        return has ? NODATA : NXDOMAIN;
      }
      case 'none':
        return NXDOMAIN;
    }
  }

  private reverse(req: Request, zone: string): Outcome {
    if (req.qname === zone) return this.apex(req, zone);
    const address = addressFromReverse(req.qname);
    const eps = address === undefined ? [] : this.registry.byAddress(address).filter((e) => e.healthy);
    if (eps.length === 0) return this.reverseParents.has(req.qname) ? NODATA : NXDOMAIN;
    if (req.qtype !== Type.PTR && req.qtype !== Type.ANY) return NODATA;
    return answerReply(
      req,
      eps.map((e) => ({ name: req.qname, ttl: this.opts.ttl, data: { type: Type.PTR, target: endpointFqdn(e.name, e.service, e.namespace, this.nameZone) } })),
    );
  }

  /** Every zone the plugin serves has its SOA and NS at its apex (ANY: both, RFC 8482). */
  private apex(req: Request, zone: string): Outcome {
    const soa = soaRecord(zone, this.opts.ttl, this.opts.negativeTtl, this.registry.index, this.soaNames(zone));
    const target = nsName(this.soaNames(zone));
    const ns: RR = { name: req.qname, ttl: this.opts.ttl, data: { type: Type.NS, target } };
    switch (req.qtype) {
      case Type.SOA:
        return answerReply(req, [soa]);
      case Type.NS:
        return answerReply(req, [ns], this.localGlue(req, target));
      case Type.ANY:
        return answerReply(req, [soa, ns], this.localGlue(req, target));
      default:
        return NODATA;
    }
  }

  /** The zone a zone's SOA and NS names live under: itself, or the forward zone for a reverse one. */
  private soaNames(zone: string): string {
    return isReverseZone(zone) ? this.nameZone : zone;
  }

  /** A/AAAA for the endpoints of the asked family (ANY: both); NODATA when the name has none of it. */
  private addresses(req: Request, eps: readonly Endpoint[], ttl: number): Outcome {
    const any = req.qtype === Type.ANY;
    if (!any && req.qtype !== Type.A && req.qtype !== Type.AAAA) return NODATA;
    const answers: RR[] = [];
    for (const e of eps) {
      const type = isIPv4(e.address) ? Type.A : Type.AAAA;
      if (any || type === req.qtype) answers.push({ name: req.qname, ttl, data: { type, address: addressBytes(e.address) } });
    }
    return answers.length === 0 ? NODATA : answerReply(req, answers);
  }

  /** `ns.dns.<zone>` resolves to the address the query arrived on. */
  private nsAddress(req: Request): Outcome {
    const wanted = this.localGlue(req, req.qname).filter((rr) => req.qtype === Type.ANY || rr.data.type === req.qtype);
    return wanted.length > 0 ? answerReply(req, wanted) : NODATA;
  }

  private localGlue(req: Request, name: string): RR[] {
    const a = req.peer.localAddress;
    if (a === '' || a === '0.0.0.0' || a === '::') return [];
    return [{ name, ttl: this.opts.ttl, data: { type: isIPv4(a) ? Type.A : Type.AAAA, address: addressBytes(a) } }];
  }
}
