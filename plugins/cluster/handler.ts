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
import { endpointFqdn, parseClusterName } from './names.js';
import { addressFromReverse, isReverseZone } from '../../src/dns/reverse-name.js';
import { answerReply, negativeReply, soaRecord } from './zone.js';
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
  /** The first forward zone: PTR targets are named under it. */
  private readonly nameZone: string;

  constructor(
    private readonly opts: ClusterOptions,
    private readonly registry: Registry,
    private readonly next: Handler,
  ) {
    this.nameZone = opts.zones.find((z) => !isReverseZone(z)) ?? 'cluster.local.';
  }

  serveDNS(req: Request, w: ResponseWriter): number | Promise<number> {
    const zone = matchZone(req.qname, this.opts.zones);
    if (zone === undefined) return this.next.serveDNS(req, w);
    const hit = this.memo.serve(req, w);
    if (hit !== undefined) return hit;

    const outcome = isReverseZone(zone) ? this.reverse(req, zone) : this.forward(req, zone);
    if (outcome === NXDOMAIN && fallsThrough(this.opts.fallthrough, req.qname)) return this.next.serveDNS(req, w);
    const rcode = outcome === NXDOMAIN ? Rcode.NXDOMAIN : Rcode.NOERROR;
    const msg = typeof outcome === 'number' ? negativeReply(req, rcode, zone, this.opts.negativeTtl, this.registry.index) : outcome;
    // NS answers carry the address the query arrived on, so they are not memoised.
    if (req.qtype !== Type.NS && !req.qname.startsWith('ns.dns.')) this.memo.store(req, msg, rcode);
    w.write(msg);
    return rcode;
  }

  private forward(req: Request, zone: string): Outcome {
    // ns.dns.<zone> has two labels, so it parses as a service: check it first.
    if (req.qname === (zone === '.' ? 'ns.dns.' : `ns.dns.${zone}`)) return this.nsAddress(req);
    const name = parseClusterName(req.qname, zone);
    const ttl = this.opts.ttl;
    switch (name.kind) {
      case 'apex':
        if (req.qtype === Type.SOA) return answerReply(req, [soaRecord(zone, ttl, this.opts.negativeTtl, this.registry.index)]);
        if (req.qtype === Type.NS) return this.nsAnswer(req, zone);
        return NODATA;
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
    const address = addressFromReverse(req.qname);
    const eps = address === undefined ? [] : this.registry.byAddress(address).filter((e) => e.healthy);
    if (eps.length === 0) return req.qname === zone ? NODATA : NXDOMAIN;
    if (req.qtype !== Type.PTR) return NODATA;
    return answerReply(
      req,
      eps.map((e) => ({ name: req.qname, ttl: this.opts.ttl, data: { type: Type.PTR, target: endpointFqdn(e.name, e.service, e.namespace, this.nameZone) } })),
    );
  }

  /** A/AAAA for the endpoints of the asked family; NODATA when the name has none of it. */
  private addresses(req: Request, eps: readonly Endpoint[], ttl: number): Outcome {
    const want = req.qtype === Type.A ? 4 : req.qtype === Type.AAAA ? 6 : 0;
    if (want === 0) return NODATA;
    const answers: RR[] = [];
    for (const e of eps) {
      if ((want === 4) !== isIPv4(e.address)) continue;
      answers.push({ name: req.qname, ttl, data: { type: want === 4 ? Type.A : Type.AAAA, address: addressBytes(e.address) } });
    }
    return answers.length === 0 ? NODATA : answerReply(req, answers);
  }

  private nsAnswer(req: Request, zone: string): Outcome {
    const target = zone === '.' ? 'ns.dns.' : `ns.dns.${zone}`;
    return answerReply(req, [{ name: req.qname, ttl: this.opts.ttl, data: { type: Type.NS, target } }], this.localGlue(req, target));
  }

  /** `ns.dns.<zone>` resolves to the address the query arrived on. */
  private nsAddress(req: Request): Outcome {
    const wanted = this.localGlue(req, req.qname).filter((rr) => rr.data.type === req.qtype);
    return wanted.length > 0 ? answerReply(req, wanted) : NODATA;
  }

  private localGlue(req: Request, name: string): RR[] {
    const a = req.peer.localAddress;
    if (a === '' || a === '0.0.0.0' || a === '::') return [];
    return [{ name, ttl: this.opts.ttl, data: { type: isIPv4(a) ? Type.A : Type.AAAA, address: addressBytes(a) } }];
  }
}
