// One query from bytes to response: parse, the checks the server makes
// before any plugin (CoreDNS dnsserver.ServeDNS), zone routing, the chain,
// and the error reply when a plugin leaves one unwritten.

import { Class, Opcode, Rcode } from '../dns/constants.js';
import { errorResponse, headerOnlyResponse } from '../dns/builder.js';
import { unsupportedVersion } from '../dns/edns.js';
import { parseRequest, QueryError, type Peer, type Request } from '../dns/request.js';
import { truncate } from '../dns/truncate.js';
import { WireError } from '../dns/wire.js';
import { NO_REPLY, isUnwrittenError, matchZone, type Handler, type ResponseWriter } from '../chain/plugin.js';
import { countPanic } from '../metrics/panics.js';
import type { Logger } from 'pino';

/** A server block as a listener sees it: zones and the chain that serves them. */
export interface Route {
  zones: string[];
  chain: Handler;
  server: string;
  /** The block has `forward`: every reply it gives says RA (recursion available), and only then (Request.recursionAvailable). */
  recursion: boolean;
}

/** The listener's end of one query: where its reply goes. */
export interface ReplyTo {
  /** Sends the reply; null when the chain chose to send none (NO_REPLY), so listeners can settle the query. */
  send(msg: Buffer | null): void;
  /**
   * Set on the batch path: the query's bytes are a view of a receive slot that
   * a later batch overwrites, so a request kept past the chain's return is
   * copied (Request#keep).
   */
  readonly lendsWire?: boolean;
  /**
   * The batch path: room for a reply of `length` bytes in the send buffer, to
   * be filled and sent at once (no copy then); undefined when there is none.
   */
  room?(length: number): Buffer | undefined;
}

/** Writer handed to the chain: remembers that it wrote, truncates for UDP. */
class ServerWriter implements ResponseWriter {
  written = false;
  constructor(
    private readonly req: Request,
    private readonly reply: ReplyTo,
  ) {}

  sendBuffer(length: number): Buffer | undefined {
    // Over UDP a reply the client cannot take is truncated into a buffer of its own anyway.
    if (this.written || this.reply.room === undefined || (this.req.proto === 'udp' && length > this.req.maxSize)) return undefined;
    return this.reply.room(length);
  }

  write(msg: Buffer): void {
    if (this.written) return;
    this.written = true;
    let out = msg;
    if (this.req.proto === 'udp') {
      try {
        out = truncate(msg, this.req.maxSize);
      } catch (e) {
        // An oversized reply we cannot parse (a broken upstream's): the query must still be settled.
        if (!(e instanceof WireError)) throw e;
        out = errorResponse(this.req, Rcode.SERVFAIL);
      }
    }
    this.reply.send(out);
  }

  /** Settles the query without a reply. */
  drop(): void {
    if (this.written) return;
    this.written = true;
    this.reply.send(null);
  }
}

export class Dispatcher {
  constructor(
    /** Swapped as a whole on reload; queries in flight keep the routes they started with. */
    public routes: Route[],
    private readonly log: Logger,
  ) {}

  /**
   * Serves one message. Returns false when it is dropped without a reply
   * (too short for a header, or a response); otherwise `reply.send` is
   * called exactly once, now or later.
   */
  handle(wire: Buffer, peer: Peer, reply: ReplyTo): boolean {
    let req: Request | null;
    try {
      req = parseRequest(wire, peer);
    } catch (e) {
      if (!(e instanceof QueryError)) return false;
      reply.send(headerOnlyResponse(wire, e.rcode));
      return true;
    }
    if (req === null) return false;
    if (reply.lendsWire) req.borrowWire();
    const route = this.route(req);
    const early = this.precheck(req) ?? (route ? undefined : Rcode.REFUSED);
    if (early !== undefined || !route) {
      new ServerWriter(req, reply).write(errorResponse(req, early ?? Rcode.REFUSED));
      return true;
    }
    const w = new ServerWriter(req, reply);
    let result;
    try {
      result = route.chain.serveDNS(req, w);
    } catch (err) {
      this.failed(req, w, err);
      return true;
    }
    if (typeof result === 'number') {
      this.finish(req, w, result);
    } else {
      // Answered later: the request outlives the receive slot its bytes are in.
      req.keep();
      result.then(
        (rcode) => this.finish(req, w, rcode),
        (err: unknown) => this.failed(req, w, err),
      );
    }
    return true;
  }

  /** The checks CoreDNS makes before any plugin runs. */
  private precheck(req: Request): number | undefined {
    if (req.opcode !== Opcode.QUERY) return Rcode.NOTIMP;
    if (unsupportedVersion(req.edns)) return Rcode.BADVERS;
    if (req.qclass !== Class.IN) return Rcode.REFUSED;
    return undefined;
  }

  /** The route whose zone matches the name longest; sets the request's server and zone. */
  private route(req: Request): Route | undefined {
    let best: Route | undefined;
    let bestZone = '';
    for (const r of this.routes) {
      const z = matchZone(req.qname, r.zones);
      if (z !== undefined && (best === undefined || z.length > bestZone.length)) {
        best = r;
        bestZone = z;
      }
    }
    if (best) {
      req.server = best.server;
      req.zone = bestZone;
      req.recursionAvailable = best.recursion;
    }
    return best;
  }

  private finish(req: Request, w: ServerWriter, rcode: number): void {
    if (w.written) return;
    if (rcode === NO_REPLY) return w.drop();
    if (!isUnwrittenError(rcode)) this.log.error({ plugin: 'server' }, `chain returned ${rcode} for ${req.qname} without writing a reply`);
    w.write(errorResponse(req, isUnwrittenError(rcode) ? rcode : Rcode.SERVFAIL));
  }

  private failed(req: Request, w: ServerWriter, err: unknown): void {
    countPanic();
    this.log.error({ plugin: 'server' }, `panic serving ${req.qname}: ${(err as Error)?.stack ?? String(err)}`);
    if (!w.written) w.write(errorResponse(req, Rcode.SERVFAIL));
  }
}
