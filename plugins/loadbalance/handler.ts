// Wraps the writer so whatever answers later in the chain — the cache on a
// hit included — goes out with its address records in a new order.

import type { Handler, ResponseWriter, Result } from '../../src/chain/plugin.js';
import { Type } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { shuffleAnswers } from './shuffle.js';

class ShuffleWriter implements ResponseWriter {
  constructor(private readonly w: ResponseWriter) {}

  get written(): boolean {
    return this.w.written;
  }

  write(msg: Buffer): void {
    this.w.write(this.w.written ? msg : shuffleAnswers(msg));
  }
}

export class LoadbalanceHandler implements Handler {
  readonly name = 'loadbalance';

  constructor(private readonly next: Handler) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    if (req.qtype === Type.AXFR || req.qtype === Type.IXFR) return this.next.serveDNS(req, w);
    return this.next.serveDNS(req, new ShuffleWriter(w));
  }
}
