// Sets the server's UDP payload size for the block's replies: what their OPT
// advertises and where UDP replies are truncated (the smaller of it and the
// client's size). Without bufsize both are 1232.

import type { Handler, ResponseWriter, Result } from '../../src/chain/plugin.js';
import type { Request } from '../../src/dns/request.js';

export class BufsizeHandler implements Handler {
  readonly name = 'bufsize';

  constructor(
    private readonly size: number,
    private readonly next: Handler,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    req.serverUdpSize = this.size;
    return this.next.serveDNS(req, w);
  }
}
