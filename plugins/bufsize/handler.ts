// Lowers the request's advertised EDNS size; requests without EDNS (512) and
// with a smaller size are left alone: the size is only ever reduced.

import type { Handler, ResponseWriter, Result } from '../../src/chain/plugin.js';
import type { Request } from '../../src/dns/request.js';

export class BufsizeHandler implements Handler {
  readonly name = 'bufsize';

  constructor(
    private readonly size: number,
    private readonly next: Handler,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    if (req.edns !== null && req.edns.udpSize > this.size) req.edns.udpSize = this.size;
    return this.next.serveDNS(req, w);
  }
}
