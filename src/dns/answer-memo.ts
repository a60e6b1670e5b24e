// Remembers the complete wire reply a zone plugin built for a question, so
// the next identical question is answered by restamping bytes instead of
// looking up and encoding again. The owner clears it whenever its data
// changes; it is bounded so random names cannot grow it without limit.

import type { ResponseWriter } from '../chain/plugin.js';
import type { Request } from './request.js';
import { restamp } from './restamp.js';
import { ownCopy } from '../util/buffers.js';

const MAX_NAMES = 50_000;

interface Entry {
  msg: Buffer;
  rcode: number;
}

export class AnswerMemo {
  /** qname → variant (type and EDNS use) → reply; two map reads, no key string built per query. */
  private readonly names = new Map<string, Map<number, Entry>>();

  /** Replies from memory when it can; returns the rcode written, or undefined on a miss. */
  serve(req: Request, w: ResponseWriter): number | undefined {
    if (req.originalQname !== undefined) return undefined;
    const e = this.names.get(req.qname)?.get(variant(req));
    if (!e) return undefined;
    w.write(restamp(e.msg, req, w.sendBuffer?.(e.msg.length)));
    return e.rcode;
  }

  /** Keeps `msg`, the reply just built for `req`, for the next identical question. */
  store(req: Request, msg: Buffer, rcode: number): void {
    if (req.originalQname !== undefined) return;
    let byVariant = this.names.get(req.qname);
    if (!byVariant) {
      if (this.names.size >= MAX_NAMES) this.names.clear();
      this.names.set(req.qname, (byVariant = new Map()));
    }
    byVariant.set(variant(req), { msg: ownCopy(msg), rcode });
  }

  clear(): void {
    this.names.clear();
  }
}

/** The reply depends on the type asked and on whether (and how) the client spoke EDNS. */
function variant(req: Request): number {
  return req.qtype * 4 + (req.edns === null ? 0 : req.edns.do ? 2 : 1);
}
