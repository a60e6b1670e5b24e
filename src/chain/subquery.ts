// Asks a chain a question of the server's own, as CoreDNS's plugin/pkg/upstream
// does: the target of an ExternalName CNAME, the names of a client's search
// list. The question carries the client's peer, so plugins that answer by
// who asks (containers) answer it as they would the client. Not the hot
// path: the reply is decoded with dns-packet.

import { isIPv4 } from 'node:net';
import dnsPacket from 'dns-packet';
import type { RR } from '../dns/builder.js';
import { addressBytes } from '../dns/address.js';
import { Class, Flag, Rcode, Type } from '../dns/constants.js';
import { Request } from '../dns/request.js';
import { nameToWire } from '../dns/wire.js';
import { isUnwrittenError, type Handler, NO_REPLY } from './plugin.js';

export interface SubAnswer {
  rcode: number;
  /** The answer section, as records the builder can write again. */
  answers: RR[];
  /** False when the answer held a record type `answers` cannot carry (it was left out). */
  complete: boolean;
}

/** How many sub-questions deep a request is (an ExternalName chain, say): a loop ends at MAX_DEPTH. */
const depths = new WeakMap<Request, number>();
export const MAX_DEPTH = 8;

/** `name` (lowercased FQDN) of `type` through `handler`, from `req`'s client; SERVFAIL when too deep. */
export async function subquery(handler: Handler, req: Request, name: string, type: number): Promise<SubAnswer> {
  const depth = (depths.get(req) ?? 0) + 1;
  if (depth > MAX_DEPTH) return { rcode: Rcode.SERVFAIL, answers: [], complete: true };
  const qname = nameToWire(name);
  const wire = Buffer.alloc(12 + qname.length + 4);
  wire.writeUInt16BE(req.id, 0);
  wire.writeUInt16BE(Flag.RD, 2);
  wire.writeUInt16BE(1, 4);
  qname.copy(wire, 12);
  wire.writeUInt16BE(type, 12 + qname.length);
  wire.writeUInt16BE(Class.IN, 14 + qname.length);
  const sub = new Request(wire, req.id, Flag.RD, name, type, Class.IN, wire.length, null, { ...req.peer, proto: 'tcp' });
  sub.zone = req.zone;
  sub.server = req.server;
  depths.set(sub, depth);
  let reply: Buffer | undefined;
  const w = {
    write(msg: Buffer) {
      reply = msg;
    },
    get written() {
      return reply !== undefined;
    },
  };
  const rcode = await handler.serveDNS(sub, w);
  if (reply === undefined) return { rcode: rcode === NO_REPLY || !isUnwrittenError(rcode) ? Rcode.SERVFAIL : rcode, answers: [], complete: true };
  return decode(reply);
}

function decode(reply: Buffer): SubAnswer {
  const msg = dnsPacket.decode(reply);
  const rcode = reply.readUInt16BE(2) & 0xf;
  const answers: RR[] = [];
  let complete = true;
  for (const a of msg.answers ?? []) {
    const rr = toRR(a);
    if (rr) answers.push(rr);
    else complete = false;
  }
  return { rcode, answers, complete };
}

function toRR(a: dnsPacket.Answer): RR | undefined {
  const name = fqdn(a.name);
  const ttl = ('ttl' in a ? a.ttl : undefined) ?? 0;
  switch (a.type) {
    case 'A':
    case 'AAAA':
      return { name, ttl, data: { type: isIPv4(a.data) ? Type.A : Type.AAAA, address: addressBytes(a.data) } };
    case 'CNAME':
      return { name, ttl, data: { type: Type.CNAME, target: fqdn(a.data) } };
    case 'PTR':
      return { name, ttl, data: { type: Type.PTR, target: fqdn(a.data) } };
    case 'NS':
      return { name, ttl, data: { type: Type.NS, target: fqdn(a.data) } };
    case 'SRV':
      return {
        name,
        ttl,
        data: { type: Type.SRV, priority: a.data.priority ?? 0, weight: a.data.weight ?? 0, port: a.data.port, target: fqdn(a.data.target) },
      };
    case 'TXT': {
      const parts = Array.isArray(a.data) ? a.data : [a.data];
      return { name, ttl, data: { type: Type.TXT, strings: parts.map((p) => p.toString()) } };
    }
    default:
      return undefined;
  }
}

function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}
