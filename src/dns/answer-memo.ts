// Remembers the complete wire reply a zone plugin built for a question, so
// the next identical question is answered by restamping bytes instead of
// looking up and encoding again. The owner clears it whenever its data
// changes; it is bounded so random names cannot grow it without limit.

import type { ResponseWriter } from '../chain/plugin.js';
import type { Request } from './request.js';
import { restamp } from './restamp.js';
import { ownCopy } from '../util/buffers.js';

const MAX_ENTRIES = 50_000;

export class AnswerMemo {
  private readonly entries = new Map<string, { msg: Buffer; rcode: number }>();

  /** Replies from memory when it can; returns the rcode written, or undefined on a miss. */
  serve(req: Request, w: ResponseWriter): number | undefined {
    if (req.originalQname !== undefined) return undefined;
    const e = this.entries.get(keyOf(req));
    if (!e) return undefined;
    w.write(restamp(e.msg, req));
    return e.rcode;
  }

  /** Keeps `msg`, the reply just built for `req`, for the next identical question. */
  store(req: Request, msg: Buffer, rcode: number): void {
    if (req.originalQname !== undefined) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(keyOf(req), { msg: ownCopy(msg), rcode });
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The reply depends on the question and on whether (and how) the client spoke EDNS. */
function keyOf(req: Request): string {
  return `${req.qname}|${req.qtype}|${req.edns === null ? 0 : req.edns.do ? 2 : 1}`;
}
