// Answers Podman's own names as aardvark-dns 1.4 does (src/dns/coredns.rs
// there), for clients that are containers this node knows: A and AAAA for
// container names and network aliases, PTR for their addresses, scoped to
// the networks the client is on. A known name without records of the asked
// type gets NODATA. A name aardvark would not forward (one label, or under
// its search domain) gets NXDOMAIN; every other miss, and every query from
// an address that is no container's, goes to the next plugin.

import { isIPv4 } from 'node:net';
import { matchZone, type Handler, type ResponseWriter, type Result } from '../../src/chain/plugin.js';
import { fallsThrough } from '../../src/chain/fallthrough.js';
import { addressBytes, plainAddress } from '../../src/dns/address.js';
import { MessageBuilder, type RR } from '../../src/dns/builder.js';
import { Rcode, Type } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { addressFromReverse } from '../../src/dns/reverse-name.js';
import { canonicalAddress } from '../../src/registry/names.js';
import { addressesFor, clientOf, namesFor, v4, v6, type Client } from './names.js';
import type { ContainerNames } from './source.js';
import { CLUSTER_ZONE, REGISTRY_TTL, serviceFqdn } from '../../src/registry/dns.js';
import type { Registry } from '../../src/registry/registry.js';

export interface ContainersOptions {
  zones: string[];
  /** Podman's DNS domain without the trailing dot, lowercased: `dns.podman`. */
  domain: string;
  ttl: number;
  /** Where an unknown one-label or in-domain name goes on instead of NXDOMAIN. */
  fallthrough: string[] | null;
}

export class ContainersHandler implements Handler {
  readonly name = 'containers';

  constructor(
    private readonly opts: ContainersOptions,
    private readonly source: ContainerNames,
    private readonly registry: Registry,
    private readonly next: Handler,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    const client = canonicalAddress(plainAddress(req.peer.remoteAddress));
    // The host asking itself (loopback, or the node address as source) is no container.
    if (client === undefined || client === req.peer.localAddress || isLoopback(client)) return this.next.serveDNS(req, w);
    const who = this.source.identify(client);
    if (who instanceof Promise) return who.then((c) => (c ? this.answer(req, w, client, c) : this.next.serveDNS(req, w)));
    return who ? this.answer(req, w, client, who) : this.next.serveDNS(req, w);
  }

  /**
   * `idx`: the events-fed index, or (`fresh`) one from a listing made for
   * this query, when a Podman name was not found: a container started a
   * moment ago may not have reached the index yet.
   */
  private answer(req: Request, w: ResponseWriter, address: string, client: Client, idx = this.source.index, fresh = false): Result {
    const nets = client.nets;
    const qname = req.qname;
    const ttl = this.opts.ttl;
    let answers: RR[];
    if (req.qtype === Type.PTR) {
      // As hosts: any reverse name the data knows, zones or not.
      const ip = addressFromReverse(qname);
      const names = ip === undefined ? [] : namesFor(idx, nets, ip);
      if (names.length === 0) return this.next.serveDNS(req, w);
      answers = names.map((n) => ({ name: qname, ttl, data: { type: Type.PTR, target: `${n}.` } }));
    } else {
      if (matchZone(qname, this.opts.zones) === undefined) return this.next.serveDNS(req, w);
      const ips = addressesFor(idx, nets, qname, this.opts.domain);
      if (ips.length === 0) {
        const ns = client.namespace;
        if (ns !== undefined && isSingleLabel(qname) && this.sameNamespace(req, w, qname.slice(0, -1), ns)) return Rcode.NOERROR;
        if (!fresh && this.isPodmanName(qname) && this.source.worthListing(qname)) {
          return this.source.fresh().then((f) => (f ? this.answer(req, w, address, clientOf(f, address) ?? client, f, true) : this.miss(req, w)));
        }
        if (fresh) this.source.missed(qname);
        return this.miss(req, w);
      }
      // Other types, and AAAA for a v4-only container, get NODATA (aardvark's empty NOERROR).
      const type = req.qtype === Type.A ? Type.A : Type.AAAA;
      const family = req.qtype === Type.A ? v4(ips) : req.qtype === Type.AAAA ? v6(ips) : [];
      answers = family.map((ip) => ({ name: qname, ttl, data: { type, address: addressBytes(ip) } }));
    }
    const b = new MessageBuilder(req, Rcode.NOERROR, { aa: true });
    for (const rr of answers) b.answer(rr);
    w.write(b.finish());
    return Rcode.NOERROR;
  }

  /** aardvark answers NXDOMAIN for one-label names and its own domain, and forwards the rest. */
  private miss(req: Request, w: ResponseWriter): Result {
    const qname = req.qname;
    if (!this.isPodmanName(qname) || fallsThrough(this.opts.fallthrough, qname)) return this.next.serveDNS(req, w);
    w.write(new MessageBuilder(req, Rcode.NXDOMAIN, { aa: true }).finish());
    return Rcode.NXDOMAIN;
  }

  /** One label, or under Podman's domain: the names aardvark-dns would not forward. */
  private isPodmanName(qname: string): boolean {
    return isSingleLabel(qname) || qname.endsWith(`.${this.opts.domain}.`);
  }

  /**
   * `web` from a container of namespace `shop`, as Kubernetes' per-pod search
   * list would find it: a CNAME to `web.shop.svc.cluster.local` and that
   * name's healthy addresses, with the registry's TTL. False when there is no such service.
   */
  private sameNamespace(req: Request, w: ResponseWriter, svc: string, ns: string): boolean {
    const eps = this.registry.lookup(ns, svc)?.healthy;
    if (!eps || eps.length === 0) return false;
    const target = serviceFqdn(svc, ns, CLUSTER_ZONE);
    const b = new MessageBuilder(req, Rcode.NOERROR, { aa: true });
    b.answer({ name: req.qname, ttl: REGISTRY_TTL, data: { type: Type.CNAME, target } });
    const want = req.qtype === Type.A ? 4 : req.qtype === Type.AAAA ? 6 : 0;
    for (const e of eps) {
      if (want !== 0 && (want === 4) === isIPv4(e.address)) {
        b.answer({ name: target, ttl: REGISTRY_TTL, data: { type: want === 4 ? Type.A : Type.AAAA, address: addressBytes(e.address) } });
      }
    }
    w.write(b.finish());
    return true;
  }
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

/** `web.`, not the root (aardvark counts the dots and so also refuses `.`; we forward it). */
function isSingleLabel(qname: string): boolean {
  return qname.length > 1 && qname.indexOf('.') === qname.length - 1;
}
