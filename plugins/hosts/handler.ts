// Serves A, AAAA and PTR from the hosts data (CoreDNS plugin/hosts/hosts.go):
// a known name without records of the asked type gets NODATA; an unknown
// name falls through when configured, else SERVFAIL (there is no SOA to
// make an NXDOMAIN with).

import { matchZone, type Handler, type ResponseWriter, type Result } from '../../src/chain/plugin.js';
import { fallsThrough } from '../../src/chain/fallthrough.js';
import { addressBytes } from '../../src/dns/address.js';
import { MessageBuilder, type RR } from '../../src/dns/builder.js';
import { Rcode, Type } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { addressFromReverse } from '../../src/dns/reverse-name.js';
import type { HostsSource } from './source.js';

export interface HostsOptions {
  zones: string[];
  ttl: number;
  fallthrough: string[] | null;
  /** `fallthrough_unsupported`: other types for a known name go on too. */
  fallthroughUnsupported: boolean;
}

export class HostsHandler implements Handler {
  readonly name = 'hosts';

  constructor(
    private readonly opts: HostsOptions,
    private readonly source: HostsSource,
    private readonly next: Handler,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    const qname = req.qname;
    // PTR is answered for any reverse name the data knows, zones or not.
    if (req.qtype !== Type.PTR && matchZone(qname, this.opts.zones) === undefined) return this.next.serveDNS(req, w);
    const ttl = this.opts.ttl;
    let answers: RR[] = [];
    switch (req.qtype) {
      case Type.PTR: {
        const ip = addressFromReverse(qname);
        const names = ip === undefined ? [] : this.source.names(ip);
        if (names.length === 0) return this.next.serveDNS(req, w);
        answers = names.map((target) => ({ name: qname, ttl, data: { type: Type.PTR, target } }));
        break;
      }
      case Type.A:
        answers = this.source.v4(qname).map((ip) => ({ name: qname, ttl, data: { type: Type.A, address: addressBytes(ip) } }));
        break;
      case Type.AAAA:
        answers = this.source.v6(qname).map((ip) => ({ name: qname, ttl, data: { type: Type.AAAA, address: addressBytes(ip) } }));
        break;
      default:
        if (this.opts.fallthroughUnsupported && fallsThrough(this.opts.fallthrough, qname)) return this.next.serveDNS(req, w);
    }
    if (answers.length === 0 && !this.exists(qname)) {
      if (fallsThrough(this.opts.fallthrough, qname)) return this.next.serveDNS(req, w);
      return Rcode.SERVFAIL;
    }
    const b = new MessageBuilder(req, Rcode.NOERROR, { aa: true });
    for (const rr of answers) b.answer(rr);
    w.write(b.finish());
    return Rcode.NOERROR;
  }

  private exists(qname: string): boolean {
    return this.source.v4(qname).length > 0 || this.source.v6(qname).length > 0;
  }
}
