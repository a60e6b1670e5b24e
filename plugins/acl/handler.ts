// Applies the acl decision: block → REFUSED, filter → empty NOERROR (both
// with an Extended DNS Error when the client speaks EDNS), drop → no reply.

import { NO_REPLY, type Handler, type ResponseWriter, type Result } from '../../src/chain/plugin.js';
import { MessageBuilder } from '../../src/dns/builder.js';
import { Rcode, Type } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import type { AclMetrics } from './metrics.js';
import { plainAddress } from '../../src/dns/address.js';
import { decide, type Rule } from './policy.js';

// RFC 8914 info codes.
const EDE_BLOCKED = 15;
const EDE_FILTERED = 17;

export class AclHandler implements Handler {
  readonly name = 'acl';

  constructor(
    private readonly rules: readonly Rule[],
    private readonly metrics: AclMetrics,
    private readonly next: Handler,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    const { action, zone } = decide(this.rules, req.qname, req.qtype, plainAddress(req.peer.remoteAddress));
    this.metrics.count(action, req.server, zone);
    switch (action) {
      case 'allow':
        return this.next.serveDNS(req, w);
      case 'drop':
        return NO_REPLY;
      case 'block':
        w.write(withEde(new MessageBuilder(req, Rcode.REFUSED).finish(), EDE_BLOCKED));
        return Rcode.NOERROR;
      case 'filter':
        w.write(withEde(new MessageBuilder(req, Rcode.NOERROR).finish(), EDE_FILTERED));
        return Rcode.NOERROR;
    }
  }
}

/** Adds an EDE option to the empty OPT record MessageBuilder puts last (when the query had EDNS). */
function withEde(msg: Buffer, code: number): Buffer {
  const opt = msg.length - 11;
  if (opt < 12 || msg[opt] !== 0 || msg.readUInt16BE(opt + 1) !== Type.OPT || msg.readUInt16BE(opt + 9) !== 0) return msg;
  const ede = Buffer.from([0, 15, 0, 2, code >> 8, code & 0xff]);
  const out = Buffer.concat([msg, ede]);
  out.writeUInt16BE(ede.length, opt + 9);
  return out;
}
