// The forward handler: one Forward per `forward` directive, tried in the
// order they are listed; the first whose FROM matches serves the query.

import { Rcode, rcodeName } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { validateMessage, type Validated } from '../../src/dns/validate.js';
import { WireError } from '../../src/dns/wire.js';
import { isSubdomain, matchZone, type Handler, type ResponseWriter, type Result } from '../../src/chain/plugin.js';
import type { ForwardMetrics } from './metrics.js';
import { UpstreamError } from './errors.js';
import { clientReply, isTruncated, rcodeOf, upstreamQuery } from './message.js';
import type { Policy } from './policy.js';
import type { Transport, Upstream } from './upstream.js';

export interface ForwardOptions {
  from: string[];
  except: string[];
  forceTcp: boolean;
  preferUdp: boolean;
  maxConcurrent: number;
  readTimeoutMs: number;
}

/** CoreDNS's overall bound on one forwarded query, across all tries. */
const QUERY_DEADLINE_MS = 5000;

export class Forward {
  private inFlight = 0;

  constructor(
    private readonly opts: ForwardOptions,
    readonly upstreams: readonly Upstream[],
    private readonly policy: Policy,
    private readonly metrics: ForwardMetrics,
  ) {}

  /** In FROM, and not under an `except` name (FROM itself always matches). */
  matches(qname: string): boolean {
    const zone = matchZone(qname, this.opts.from);
    if (zone === undefined) return false;
    return qname === zone || !this.opts.except.some((e) => isSubdomain(qname, e));
  }

  /** Ready while at least one upstream is up (always, without health checks). */
  get healthy(): boolean {
    return this.upstreams.some((u) => !u.down);
  }

  close(): void {
    for (const u of this.upstreams) u.close();
  }

  async serve(req: Request, w: ResponseWriter): Promise<number> {
    if (this.opts.maxConcurrent > 0 && this.inFlight >= this.opts.maxConcurrent) {
      this.metrics.maxConcurrentRejects.inc();
      return Rcode.REFUSED;
    }
    this.inFlight++;
    try {
      return await this.forward(req, w);
    } finally {
      this.inFlight--;
    }
  }

  /**
   * Tries upstreams in policy order until one answers with a valid reply that
   * is not SERVFAIL or REFUSED; if none does, the last valid SERVFAIL/REFUSED
   * goes to the client, and with no valid reply at all, SERVFAIL.
   */
  private async forward(req: Request, w: ResponseWriter): Promise<number> {
    const query = upstreamQuery(req);
    const transport: Transport = this.opts.forceTcp ? 'tcp' : this.opts.preferUdp ? 'udp' : req.proto;
    const deadline = Date.now() + QUERY_DEADLINE_MS;
    let refusal: { reply: Buffer; checked: Validated } | undefined;
    for (const up of this.candidates()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const start = process.hrtime.bigint();
      this.metrics.requests.inc({ to: up.label });
      try {
        let reply = await up.exchange(query, transport, Math.min(this.opts.readTimeoutMs, remaining));
        // Truncated over UDP: the same upstream has the whole answer over TCP.
        if (transport === 'udp' && isTruncated(reply)) {
          reply = await up.exchange(query, 'tcp', Math.min(this.opts.readTimeoutMs, Math.max(1, deadline - Date.now())));
        }
        const checked = this.validate(up, reply);
        const code = rcodeOf(reply);
        const rcode = rcodeName(code);
        this.metrics.responses.inc({ to: up.label, rcode });
        this.metrics.duration.observe({ server: req.server, to: up.label, rcode }, Number(process.hrtime.bigint() - start) / 1e9);
        // This upstream cannot or will not answer; the next one may (as Consul does since 2018).
        if (code === Rcode.SERVFAIL || code === Rcode.REFUSED) {
          refusal = { reply, checked };
          continue;
        }
        w.write(clientReply(req, query, reply, checked.opt));
        return Rcode.NOERROR;
      } catch {
        up.healthcheck();
      }
    }
    if (!refusal) return Rcode.SERVFAIL;
    w.write(clientReply(req, query, refusal.reply, refusal.checked.opt));
    return Rcode.NOERROR;
  }

  /** A reply that does not parse cleanly is never used: it fails this try as a timeout would. */
  private validate(up: Upstream, reply: Buffer): Validated {
    try {
      return validateMessage(reply);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.metrics.malformed.inc({ to: up.label });
      throw new UpstreamError(`${up.label}: malformed reply: ${err.message}`);
    }
  }

  /** Upstreams in policy order without those marked down; if all are down, one at random (CoreDNS). */
  private candidates(): readonly Upstream[] {
    const ordered = this.policy.order(this.upstreams);
    const up = ordered.filter((u) => !u.down);
    if (up.length > 0) return up;
    this.metrics.healthcheckBroken.inc();
    return [this.upstreams[Math.floor(Math.random() * this.upstreams.length)]!];
  }
}

/** The chain handler over every forward directive of a server block. */
export function forwardHandler(forwards: readonly Forward[], next: Handler): Handler {
  return {
    name: 'forward',
    serveDNS(req: Request, w: ResponseWriter): Result {
      for (const f of forwards) if (f.matches(req.qname)) return f.serve(req, w);
      return next.serveDNS(req, w);
    },
  };
}
