// Answers every query: an empty answer section, and in the additional
// section the client's address (A or AAAA, owner = qname) and an SRV
// `_<proto>.<qname>` carrying its source port. TTL 0, authoritative.

import { isIPv4 } from 'node:net';
import type { Handler, ResponseWriter, Result } from '../../src/chain/plugin.js';
import { addressBytes } from '../../src/dns/address.js';
import { MessageBuilder } from '../../src/dns/builder.js';
import { Rcode, Type } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { plainAddress } from '../../src/dns/address.js';

export class WhoamiHandler implements Handler {
  readonly name = 'whoami';

  serveDNS(req: Request, w: ResponseWriter): Result {
    const ip = plainAddress(req.peer.remoteAddress);
    const srvName = req.qname === '.' ? `_${req.proto}.` : `_${req.proto}.${req.qname}`;
    const msg = new MessageBuilder(req, Rcode.NOERROR, { aa: true })
      .additional({ name: req.qname, ttl: 0, data: { type: isIPv4(ip) ? Type.A : Type.AAAA, address: addressBytes(ip) } })
      .additional({ name: srvName, ttl: 0, data: { type: Type.SRV, priority: 0, weight: 0, port: req.peer.remotePort, target: '.' } })
      .finish();
    w.write(msg);
    return Rcode.NOERROR;
  }
}
