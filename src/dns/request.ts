// A parsed query as the plugin chain sees it. Only the header, the question
// and the OPT record are decoded; the rest stays in `wire`.

import { Flag, Opcode, Rcode } from './constants.js';
import { OUR_UDP_SIZE, clientUdpSize, readEdns, udpReplyLimit, type Edns } from './edns.js';
import { HEADER_LEN, WireError, readName, u16 } from './wire.js';

export type Proto = 'udp' | 'tcp';

export interface Peer {
  proto: Proto;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

export class Request {
  /** Lowercased, fully qualified question name ("api.default.cluster.local."). Plugins may rewrite it. */
  qname: string;
  qtype: number;
  qclass: number;
  /** The matched server block zone and its server label ("dns://:1053"). Set by dispatch. */
  zone = '.';
  server = '';
  /** Set when a plugin (rewrite) changed the question; writers restore it on the way out. */
  originalQname: string | undefined;
  /**
   * RA in every reply, one rule for all kinds (zone answers, forwarded, cached,
   * errors): set when the matched server block has `forward`, so the server
   * claims recursion only where it would recurse. Set by dispatch.
   */
  recursionAvailable = false;
  /** The UDP payload size this server advertises and caps UDP replies at; `bufsize` sets it. */
  serverUdpSize = OUR_UDP_SIZE;

  /** The query's bytes; see `wire`. */
  private bytes: Buffer;
  /** `bytes` is a view of a listener's receive slot, reused once this batch is answered (src/server/udp-batch.ts). */
  private borrowed = false;

  constructor(
    wire: Buffer,
    readonly id: number,
    readonly flags: number,
    qname: string,
    qtype: number,
    qclass: number,
    /** Offset just past the (single) question. */
    readonly questionEnd: number,
    readonly edns: Edns | null,
    readonly peer: Peer,
  ) {
    this.bytes = wire;
    this.qname = qname;
    this.qtype = qtype;
    this.qclass = qclass;
  }

  /**
   * The query as received. On the batch path it is a view of a receive slot,
   * valid while the chain's serveDNS runs and, once keep() has copied it, for
   * as long as the request is kept.
   */
  get wire(): Buffer {
    return this.bytes;
  }

  /** Called by the dispatcher: `wire` is lent by the listener, only until the chain has returned. */
  borrowWire(): void {
    this.borrowed = true;
  }

  /**
   * Gives the request bytes of its own when they are lent, so it can be kept
   * after serveDNS has returned: the dispatcher calls it for every query the
   * chain answers later, and work that outlives the query (a cache refresh)
   * must call it itself, before serveDNS returns.
   */
  keep(): void {
    if (!this.borrowed) return;
    this.borrowed = false;
    const lent = this.bytes;
    const own = Buffer.allocUnsafe(lent.length);
    own.set(lent);
    this.bytes = own;
    if (this.edns) {
      const at = this.edns.options.byteOffset - lent.byteOffset;
      this.edns.options = own.subarray(at, at + this.edns.options.length);
    }
  }

  get opcode(): number {
    return (this.flags >> 11) & 0xf;
  }
  get rd(): boolean {
    return (this.flags & Flag.RD) !== 0;
  }
  get cd(): boolean {
    return (this.flags & Flag.CD) !== 0;
  }
  get do(): boolean {
    return this.edns?.do ?? false;
  }
  get proto(): Proto {
    return this.peer.proto;
  }

  /**
   * Largest response on this transport: over UDP the smaller of what the client
   * accepts and what we advertise, so no reply fragments (DNS Flag Day 2020).
   */
  get maxSize(): number {
    return this.peer.proto === 'tcp' ? 65535 : udpReplyLimit(this.edns, this.serverUdpSize);
  }

  /** Largest response the client accepts on this transport (CoreDNS request.Size). */
  get clientMaxSize(): number {
    return this.peer.proto === 'tcp' ? 65535 : clientUdpSize(this.edns);
  }
}

/** Why a query could not be parsed, and whether a FORMERR may still be sent. */
export class QueryError extends Error {
  constructor(
    reason: string,
    readonly rcode: number,
  ) {
    super(reason);
    this.name = 'QueryError';
  }
}

/**
 * Parses header, question and OPT. Returns null for messages to drop
 * silently (shorter than a header, or responses); throws QueryError for
 * queries to answer with an error rcode.
 */
export function parseRequest(wire: Buffer, peer: Peer): Request | null {
  if (wire.length < HEADER_LEN) return null;
  const flags = u16(wire, 2);
  if (flags & Flag.QR) return null;
  const id = u16(wire, 0);
  const qd = u16(wire, 4);
  // An opcode we do not implement is NOTIMP whatever its sections hold (RFC 8906 section 3.1.4);
  // with a readable question the dispatcher answers it, echoing the question.
  if (qd !== 1 && ((flags >> 11) & 0xf) !== Opcode.QUERY) throw new QueryError('opcode not implemented', Rcode.NOTIMP);
  if (qd !== 1) throw new QueryError(qd === 0 ? 'no question' : 'more than one question', Rcode.FORMERR);
  try {
    const { name, end } = readName(wire, HEADER_LEN);
    // Nothing precedes the only question but the header, so a pointer in its name
    // is malformed; refusing it also lets replies copy the question bytes as they are.
    if (hasPointer(wire, HEADER_LEN, end)) throw new WireError('compression pointer in the question');
    const qtype = u16(wire, end);
    const qclass = u16(wire, end + 2);
    const questionEnd = end + 4;
    const edns = readEdns(wire, questionEnd);
    return new Request(wire, id, flags, name, qtype, qclass, questionEnd, edns, peer);
  } catch (e) {
    if (e instanceof WireError) throw new QueryError(e.message, ((flags >> 11) & 0xf) === Opcode.QUERY ? Rcode.FORMERR : Rcode.NOTIMP);
    throw e;
  }
}

function hasPointer(wire: Buffer, start: number, end: number): boolean {
  for (let pos = start; pos < end - 1; pos += wire[pos]! + 1) if ((wire[pos]! & 0xc0) !== 0) return true;
  return false;
}
