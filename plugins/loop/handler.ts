// Counts our own probe (`<rand>.<rand>.<zone> HINFO`) as it passes through
// the chain. Seen more than twice means the query came back to us through
// an upstream: a forwarding loop, which is fatal (CoreDNS plugin/loop).

import { isSubdomain, type Handler, type ResponseWriter, type Result } from '../../src/chain/plugin.js';
import { Type } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { joinHostPort } from '../../src/util/hostport.js';

export interface LoopState {
  readonly zone: string;
  readonly qname: string;
  /** Where the probe is sent, as CoreDNS prints it (":1053" when not bound to one address). */
  readonly address: string;
  seen: number;
  /** Set once a probe got an answer or the 30 s are over: the handler then only passes queries on. */
  off: boolean;
}

export class LoopHandler implements Handler {
  readonly name = 'loop';

  constructor(
    private readonly state: LoopState,
    private readonly fatal: (message: string) => void,
    private readonly next: Handler,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    const s = this.state;
    if (req.qtype !== Type.HINFO || s.off || !isSubdomain(req.qname, s.zone)) return this.next.serveDNS(req, w);
    if (req.qname === s.qname && ++s.seen > 2) {
      const remote = joinHostPort(req.peer.remoteAddress, req.peer.remotePort);
      this.fatal(
        `Loop (${remote} -> ${s.address}) detected for zone "${s.zone}", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO ${s.qname}"`,
      );
    }
    return this.next.serveDNS(req, w);
  }
}
