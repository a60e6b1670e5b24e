// Answers A/AAAA (and PTR, SOA, NS) for the cluster zone from the registry:
// only healthy endpoints, authoritative, negative answers with the SOA.

import { isIPv4 } from 'node:net';
import type { Handler, ResponseWriter } from '../../src/chain/plugin.js';
import { matchZone } from '../../src/chain/plugin.js';
import { fallsThrough } from '../../src/chain/fallthrough.js';
import type { RR } from '../../src/dns/builder.js';
import { Rcode, Type } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import type { Registry } from '../../src/registry/registry.js';
import type { Endpoint } from '../../src/registry/types.js';
import { addressBytes } from '../../src/dns/address.js';
import { endpointFqdn, parseClusterName } from './names.js';
import { addressFromReverse, isReverseZone } from './reverse.js';
import { soaRecord, writeAnswer, writeNegative } from './zone.js';

export interface ClusterOptions {
  zones: string[];
  ttl: number;
  /** Zones where NXDOMAIN hands the query to the next plugin instead; null: never. */
  fallthrough: string[] | null;
}

export class ClusterHandler implements Handler {
  readonly name = 'cluster';
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
    const r = isReverseZone(zone) ? this.reverse(req, w, zone) : this.forward(req, w, zone);
    return r === Rcode.NXDOMAIN && fallsThrough(this.opts.fallthrough, req.qname) ? this.next.serveDNS(req, w) : this.write(req, w, zone, r);
  }

  /**
   * Decides the answer. Returns NOERROR when it wrote records, NXDOMAIN or
   * -1 (NODATA) when the caller writes the negative answer.
   */
  private forward(req: Request, w: ResponseWriter, zone: string): number {
    const name = parseClusterName(req.qname, zone);
    const ttl = this.opts.ttl;
    switch (name.kind) {
      case 'apex':
        if (req.qtype === Type.SOA) return writeAnswer(req, w, [soaRecord(zone, ttl, this.registry.index)]);
        if (req.qtype === Type.NS) return this.nsAnswer(req, w, zone);
        return NODATA;
      case 'namespace':
        if (req.qname === `ns.dns.${zone}`) return this.nsAddress(req, w);
        return this.registry.hasNamespace(name.ns) ? NODATA : Rcode.NXDOMAIN;
      case 'service': {
        const view = this.registry.lookup(name.ns, name.svc);
        if (!view || view.healthy.length === 0) return Rcode.NXDOMAIN;
        return this.addresses(req, w, view.healthy, ttl);
      }
      case 'endpoint': {
        const ep = this.registry.lookup(name.ns, name.svc)?.healthy.find((e) => e.name === name.endpoint);
        return ep ? this.addresses(req, w, [ep], ttl) : Rcode.NXDOMAIN;
      }
      case 'port': {
        // The name exists when the service has healthy endpoints serving that port;
        // SRV itself is the srv plugin's answer, every other type is NODATA here.
        const view = this.registry.lookup(name.ns, name.svc);
        const has = view?.healthy.some((e) => e.ports.some((p) => p.name === name.port && p.protocol === name.proto));
        return has ? NODATA : Rcode.NXDOMAIN;
      }
      case 'none':
        return Rcode.NXDOMAIN;
    }
  }

  private reverse(req: Request, w: ResponseWriter, zone: string): number {
    const address = addressFromReverse(req.qname);
    const eps = address === undefined ? [] : this.registry.byAddress(address).filter((e) => e.healthy);
    if (eps.length === 0) return req.qname === zone ? NODATA : Rcode.NXDOMAIN;
    if (req.qtype !== Type.PTR) return NODATA;
    const answers: RR[] = eps.map((e) => ({
      name: req.qname,
      ttl: this.opts.ttl,
      data: { type: Type.PTR, target: endpointFqdn(e.name, e.service, e.namespace, this.nameZone) },
    }));
    return writeAnswer(req, w, answers);
  }

  /** A/AAAA for the endpoints of the asked family; NODATA when the name has none of it. */
  private addresses(req: Request, w: ResponseWriter, eps: readonly Endpoint[], ttl: number): number {
    const want = req.qtype === Type.A ? 4 : req.qtype === Type.AAAA ? 6 : 0;
    if (want === 0) return NODATA;
    const answers: RR[] = [];
    for (const e of eps) {
      if ((want === 4) !== isIPv4(e.address)) continue;
      answers.push({ name: req.qname, ttl, data: { type: want === 4 ? Type.A : Type.AAAA, address: addressBytes(e.address) } });
    }
    return answers.length === 0 ? NODATA : writeAnswer(req, w, answers);
  }

  private nsAnswer(req: Request, w: ResponseWriter, zone: string): number {
    const target = `ns.dns.${zone}`;
    const glue = this.localGlue(req, target);
    return writeAnswer(req, w, [{ name: req.qname, ttl: this.opts.ttl, data: { type: Type.NS, target } }], glue);
  }

  /** `ns.dns.<zone>` resolves to the address the query arrived on. */
  private nsAddress(req: Request, w: ResponseWriter): number {
    const glue = this.localGlue(req, req.qname);
    const wanted = glue.filter((rr) => rr.data.type === req.qtype);
    return wanted.length > 0 ? writeAnswer(req, w, wanted) : NODATA;
  }

  private localGlue(req: Request, name: string): RR[] {
    const a = req.peer.localAddress;
    if (a === '' || a === '0.0.0.0' || a === '::') return [];
    return [{ name, ttl: this.opts.ttl, data: { type: isIPv4(a) ? Type.A : Type.AAAA, address: addressBytes(a) } }];
  }

  private write(req: Request, w: ResponseWriter, zone: string, r: number): number {
    if (w.written) return r;
    const soa = soaRecord(zone, this.opts.ttl, this.registry.index);
    return writeNegative(req, w, r === Rcode.NXDOMAIN ? Rcode.NXDOMAIN : Rcode.NOERROR, soa);
  }
}

/** Marker for "the name exists but has no records of this type". */
const NODATA = -1;
