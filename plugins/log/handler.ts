// The query logger: for a name in one of its rules, records the response
// on its way out and writes one line after the chain is done.

import { errorResponse } from '../../src/dns/builder.js';
import { Rcode } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { NO_REPLY, isSubdomain, isUnwrittenError, type Handler, type ResponseWriter, type Result } from '../../src/chain/plugin.js';
import type { Logger } from '../../src/log.js';
import { classify, type ResponseClass } from './classify.js';
import { render, responseType, type Entry, type Format } from './format.js';

export interface Rule {
  /** Lowercased FQDN; the rule covers it and every name below it. */
  scope: string;
  format: Format;
  /** Classes to log; null logs every response (class `all`). */
  classes: ReadonlySet<ResponseClass> | null;
}

/** Passes writes through and keeps the first response: the one the client gets. */
class Recorder implements ResponseWriter {
  msg: Buffer | undefined;
  constructor(private readonly w: ResponseWriter) {}

  get written(): boolean {
    return this.w.written;
  }

  write(msg: Buffer): void {
    if (this.msg === undefined && !this.w.written) this.msg = msg;
    this.w.write(msg);
  }
}

export class LogHandler implements Handler {
  readonly name = 'log';

  constructor(
    private readonly rules: readonly Rule[],
    private readonly next: Handler,
    private readonly out: Logger,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    const name = req.qname;
    // The first rule whose scope covers the name decides, as in CoreDNS.
    const rule = this.rules.find((r) => isSubdomain(name, r.scope));
    if (rule === undefined) return this.next.serveDNS(req, w);
    // {duration} runs from here, as CoreDNS's log plugin times it.
    const start = process.hrtime.bigint();
    const rec = new Recorder(w);
    const result = this.next.serveDNS(req, rec);
    if (typeof result === 'number') {
      this.done(rule, req, name, rec, result, start);
      return result;
    }
    return result.then((rcode) => {
      this.done(rule, req, name, rec, rcode, start);
      return rcode;
    });
  }

  private done(rule: Rule, req: Request, name: string, rec: Recorder, rcode: number, start: bigint): void {
    // A dropped query (acl drop) gets no reply, so there is no reply to log.
    if (!this.out.isLevelEnabled('info') || (rec.msg === undefined && rcode === NO_REPLY)) return;
    // Nothing written: the server will answer with this error (or SERVFAIL), so log that reply.
    const msg = rec.msg ?? errorResponse(req, isUnwrittenError(rcode) ? rcode : Rcode.SERVFAIL);
    const e: Entry = { req, name, msg, start, end: process.hrtime.bigint() };
    if (rule.classes !== null && !rule.classes.has(classify(responseType(e)))) return;
    this.out.info(render(rule.format, e));
  }
}
