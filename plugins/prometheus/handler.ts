// Counts every query that passes through, after the rest of the chain has
// answered: request, size, duration, and the rcode of the reply that went out
// with the plugin that wrote it (CoreDNS plugin/metrics/handler.go + vars.Report).

import { isUnwrittenError, NO_REPLY, type Handler, type ResponseWriter, type Result } from '../../src/chain/plugin.js';
import { replyWriterName } from '../../src/chain/reply-writer.js';
import { Rcode } from '../../src/dns/constants.js';
import type { Request } from '../../src/dns/request.js';
import { typeIndex, type DnsMetrics } from './metrics.js';

/** Passes writes through and keeps the size, rcode and writer of the first reply. */
class Recorder implements ResponseWriter {
  size = 0;
  rcode = -1;
  /** "" when the server writes the reply (an error nobody wrote), as in CoreDNS. */
  plugin = '';
  constructor(private readonly w: ResponseWriter) {}

  get written(): boolean {
    return this.w.written;
  }

  write(msg: Buffer): void {
    if (this.rcode < 0 && !this.w.written && msg.length >= 4) {
      this.size = msg.length;
      this.rcode = msg[3]! & 0xf;
      this.plugin = replyWriterName() ?? '';
    }
    this.w.write(msg);
  }
}

export class MetricsHandler implements Handler {
  readonly name = 'prometheus';

  constructor(
    private readonly metrics: DnsMetrics,
    private readonly next: Handler,
  ) {}

  serveDNS(req: Request, w: ResponseWriter): Result {
    // Timed from here, as CoreDNS's metrics plugin does: only servers that export metrics read the clock.
    const start = process.hrtime.bigint();
    const rec = new Recorder(w);
    const result = this.next.serveDNS(req, rec);
    if (typeof result === 'number') {
      this.report(req, rec, result, start);
      return result;
    }
    return result.then((rcode) => {
      this.report(req, rec, rcode, start);
      return rcode;
    });
  }

  private report(req: Request, rec: Recorder, status: number, start: bigint): void {
    const z = this.metrics.zone(req.server, req.zone);
    const type = typeIndex(req.qtype);
    const proto = req.proto === 'udp' ? 0 : 1;
    if (req.do) z.do().inc();
    z.request(proto, req.peer.remoteAddress.includes(':') ? 1 : 0, type).inc();
    z.duration(type).observe(Number(process.hrtime.bigint() - start) / 1e9);
    z.requestSize(proto).observe(req.wire.length);
    if (status === NO_REPLY && rec.rcode < 0) return;
    // Nothing written: the server writes the returned error, or SERVFAIL for anything else.
    const rcode = rec.rcode >= 0 ? rec.rcode : isUnwrittenError(status) ? status : Rcode.SERVFAIL;
    z.responseSize(proto).observe(rec.size);
    z.response(rcode, rec.plugin).inc();
  }
}
