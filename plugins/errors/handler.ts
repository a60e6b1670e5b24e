// Logs what the rest of the chain failed at: an exception (a "panic": the
// client gets SERVFAIL) or a SERVFAIL returned with nothing written. Lines
// read like CoreDNS's: "RCODE NAME TYPE: reason".

import { type Handler, type ResponseWriter, type Result } from '../../src/chain/plugin.js';
import { Rcode, typeName } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { countPanic } from '../../src/metrics/panics.js';
import type { Consolidator } from './consolidate.js';

const UNANSWERED = 'no plugin wrote a reply';

export class ErrorsHandler implements Handler {
  readonly name = 'errors';

  constructor(
    private readonly out: Consolidator,
    /** Log the stack of exceptions, not only their message. */
    private readonly stacktrace: boolean,
    private readonly next: Handler,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    let result: Result;
    try {
      result = this.next.serveDNS(req, w);
    } catch (err) {
      return this.panic(req, err);
    }
    if (typeof result === 'number') return this.check(req, w, result);
    return result.then(
      (rcode) => this.check(req, w, rcode),
      (err: unknown) => this.panic(req, err),
    );
  }

  private check(req: Request, w: ResponseWriter, rcode: number): number {
    if (rcode === Rcode.SERVFAIL && !w.written) this.report(req, rcode, UNANSWERED);
    return rcode;
  }

  /** Caught here so it is consolidated like any error; still counted as a panic. */
  private panic(req: Request, err: unknown): number {
    countPanic();
    const e = err instanceof Error ? err : new Error(String(err));
    this.report(req, Rcode.SERVFAIL, e.message, this.stacktrace ? e.stack : undefined);
    return Rcode.SERVFAIL;
  }

  private report(req: Request, rcode: number, message: string, detail = message): void {
    this.out.report(message, `${rcode} ${req.qname} ${typeName(req.qtype)}: ${detail}`);
  }
}
