// Runs the request rules in line order (`stop` ends at the first match),
// then serves the rewritten query through a writer that reverts the reply.

import { isUnwrittenError, type Handler, type ResponseWriter, type Result } from '../../src/chain/plugin.js';
import { errorResponse } from '../../src/dns/builder.js';
import { Rcode } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { WireError, nameToWire } from '../../src/dns/wire.js';
import type { Logger } from '../../src/log.js';
import { ReverterWriter } from './response.js';
import type { ResponseRule, Rule } from './rules.js';

export class RewriteHandler implements Handler {
  readonly name = 'rewrite';

  constructor(
    private readonly rules: readonly Rule[],
    private readonly log: Logger,
    private readonly next: Handler,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    const { qname, qtype, qclass } = req;
    const responseRules: ResponseRule[] = [];
    let matched = false;
    for (const rule of this.rules) {
      const r = rule.apply(req);
      if (r === null) continue;
      matched = true;
      responseRules.push(...r);
      if (rule.mode === 'stop') break;
    }
    if (!matched) return this.next.serveDNS(req, w);
    if (req.qname !== qname && !isValidName(req.qname)) {
      this.log.error(`invalid name after rewrite: ${req.qname}`);
      // The server writes the error to the client's own question (CoreDNS restores all of it).
      req.qname = qname;
      req.qtype = qtype;
      req.qclass = qclass;
      return Rcode.SERVFAIL;
    }
    // Any change to the question, the type or class alone included, marks it
    // rewritten: the plugins after this one answer (and the cache keys and
    // checks) the question as rewritten, and the reverter restores the client's.
    if (req.qname !== qname || req.qtype !== qtype || req.qclass !== qclass) req.originalQname ??= qname;
    if (responseRules.length === 0 && req.originalQname === undefined) return this.next.serveDNS(req, w);

    const rw = new ReverterWriter(req, req.originalQname ?? qname, responseRules, w);
    const result = this.next.serveDNS(req, rw);
    return typeof result === 'number' ? this.settle(req, rw, result) : result.then((rcode) => this.settle(req, rw, rcode));
  }

  /** An error left for the server to write would show the rewritten question: write it here, reverted. */
  private settle(req: Request, rw: ReverterWriter, rcode: number): number {
    if (rw.written || !isUnwrittenError(rcode)) return rcode;
    rw.write(errorResponse(req, rcode));
    return Rcode.NOERROR;
  }
}

function isValidName(name: string): boolean {
  try {
    nameToWire(name);
    return true;
  } catch (e) {
    if (e instanceof WireError) return false;
    throw e;
  }
}
