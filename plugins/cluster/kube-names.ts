// The names of the Kubernetes DNS specification that are no registry
// service's endpoints, answered in front of the cluster handler:
//   dns-version.<zone>            TXT "1.1.0" (the specification's version)
//   <svc>.<ns>[.svc].<zone>       of an ExternalName service: a CNAME to its
//                                 target, and for A/AAAA the target's records
//                                 as the rest of the chain resolves them (CoreDNS does the same)
//   <a-b-c-d>.<ns>.pod.<zone>     pod records, with `pods insecure|verified`
// Everything else goes to the cluster handler.

import { isIPv4 } from 'node:net';
import { matchZone, type Handler, type ResponseWriter, type Result } from '../../src/chain/plugin.js';
import { subquery } from '../../src/chain/subquery.js';
import { addressBytes } from '../../src/dns/address.js';
import { MessageBuilder, type RR } from '../../src/dns/builder.js';
import { Rcode, Type } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { isReverseZone } from '../../src/dns/reverse-name.js';
import { addressFromDashed } from '../../src/registry/names.js';
import type { Registry } from '../../src/registry/registry.js';
import { answerReply, negativeReply } from '../../src/dns/zone-replies.js';

/** The version of the Kubernetes DNS-Based Service Discovery specification followed. */
export const DNS_SCHEMA_VERSION = '1.1.0';

/** CoreDNS's `pods`: no pod records, any dashed address, or only addresses the registry has in that namespace. */
export type PodsMode = 'disabled' | 'insecure' | 'verified';
export const PODS_MODES: readonly PodsMode[] = ['disabled', 'insecure', 'verified'];

export interface KubeNamesOptions {
  zones: string[];
  ttl: number;
  negativeTtl: number;
  pods: PodsMode;
}

export class KubeNamesHandler implements Handler {
  readonly name = 'cluster';

  constructor(
    private readonly opts: KubeNamesOptions,
    private readonly registry: Registry,
    /** The cluster handler: everything not answered here. */
    private readonly cluster: Handler,
    /** What follows cluster in the chain (forward): where outside targets are resolved. */
    private readonly next: Handler,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    const zone = matchZone(req.qname, this.opts.zones);
    if (zone === undefined || isReverseZone(zone)) return this.cluster.serveDNS(req, w);
    const rel = zone === '.' ? req.qname.slice(0, -1) : req.qname.slice(0, req.qname.length - zone.length - 1);
    if (rel === 'dns-version') return this.version(req, w, zone);
    // Nearly every name is a registry service's: only a pod's or, while there are any, an ExternalName's is worth splitting.
    const podShaped = this.opts.pods !== 'disabled' && rel.endsWith('.pod');
    if (!podShaped && !this.registry.hasExternalNames) return this.cluster.serveDNS(req, w);
    const labels = rel === '' ? [] : rel.split('.');
    if (podShaped && labels.length === 3) return this.pod(req, w, zone, labels[0]!, labels[1]!);
    if (this.registry.hasExternalNames) {
      if (labels[labels.length - 1] === 'svc') labels.pop();
      const target = labels.length === 2 ? this.registry.lookup(labels[1]!, labels[0]!)?.service.externalName : undefined;
      if (target !== undefined) return this.external(req, w, `${target}.`);
    }
    return this.cluster.serveDNS(req, w);
  }

  private version(req: Request, w: ResponseWriter, zone: string): number {
    const msg =
      req.qtype === Type.TXT
        ? answerReply(req, [{ name: req.qname, ttl: this.opts.ttl, data: { type: Type.TXT, strings: [DNS_SCHEMA_VERSION] } }])
        : negativeReply(req, Rcode.NOERROR, zone, this.opts.negativeTtl, this.registry.index);
    w.write(msg);
    return Rcode.NOERROR;
  }

  private pod(req: Request, w: ResponseWriter, zone: string, dashed: string, ns: string): number {
    const address = addressFromDashed(dashed);
    const known = address !== undefined && (this.opts.pods === 'insecure' || this.registry.byAddress(address).some((e) => e.namespace === ns));
    if (!known) {
      w.write(negativeReply(req, Rcode.NXDOMAIN, zone, this.opts.negativeTtl, this.registry.index));
      return Rcode.NXDOMAIN;
    }
    const type = isIPv4(address) ? Type.A : Type.AAAA;
    w.write(
      req.qtype === type
        ? answerReply(req, [{ name: req.qname, ttl: this.opts.ttl, data: { type, address: addressBytes(address) } }])
        : negativeReply(req, Rcode.NOERROR, zone, this.opts.negativeTtl, this.registry.index),
    );
    return Rcode.NOERROR;
  }

  /** A CNAME to `target`; for A/AAAA also the target's records, resolved in our zones here, elsewhere by the rest of the chain. */
  private async external(req: Request, w: ResponseWriter, target: string): Promise<number> {
    const cname: RR = { name: req.qname, ttl: this.opts.ttl, data: { type: Type.CNAME, target } };
    let rcode: number = Rcode.NOERROR;
    const answers = [cname];
    if (req.qtype === Type.A || req.qtype === Type.AAAA) {
      const via = matchZone(target, this.opts.zones) === undefined ? this.next : this;
      const found = await subquery(via, req, target, req.qtype);
      // A target that fails (SERVFAIL, REFUSED) still leaves the CNAME for the client to follow.
      if (found.rcode === Rcode.NOERROR || found.rcode === Rcode.NXDOMAIN) {
        rcode = found.rcode;
        answers.push(...found.answers);
      }
    }
    const b = new MessageBuilder(req, rcode, { aa: true });
    for (const rr of answers) b.answer(rr);
    w.write(b.finish());
    return rcode;
  }
}
