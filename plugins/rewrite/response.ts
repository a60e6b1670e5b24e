// The way back: the reply is decoded (dns-packet, off the hot path), the
// response rules run over every record in reverse rule order, and the
// client's own question bytes go back in place of the rewritten one.

import dnsPacket from 'dns-packet';
import type { ResponseWriter } from '../../src/chain/plugin.js';
import type { Request } from '../../src/dns/request.js';
import { HEADER_LEN, readName } from '../../src/dns/wire.js';
import type { ResponseRule } from './rules.js';

type Record = Exclude<dnsPacket.Answer, { type: 'OPT' }>;

export class ReverterWriter implements ResponseWriter {
  constructor(
    private readonly req: Request,
    /** The client's question name, lowercased: names mapped back to it take the client's spelling. */
    private readonly clientName: string,
    private readonly rules: readonly ResponseRule[],
    private readonly w: ResponseWriter,
  ) {}

  get written(): boolean {
    return this.w.written;
  }

  write(msg: Buffer): void {
    if (this.w.written) return;
    let out: Buffer;
    try {
      out = this.revert(msg);
    } catch {
      out = msg; // undecodable: better the reply as it is than none
    }
    this.w.write(out);
  }

  private revert(msg: Buffer): Buffer {
    const p = dnsPacket.decode(msg);
    for (const list of [p.answers, p.authorities, p.additionals]) {
      for (const rr of list ?? []) if (rr.type !== 'OPT') this.rewriteRecord(rr);
    }
    const body = dnsPacket.encode({ ...p, questions: [] });
    // dns-packet does not compress, so splicing the question in moves no pointer target.
    const q = this.req.wire.subarray(HEADER_LEN, this.req.questionEnd);
    const out = Buffer.concat([body.subarray(0, HEADER_LEN), q, body.subarray(HEADER_LEN)]);
    out.writeUInt16BE(1, 4);
    return out;
  }

  private rewriteRecord(rr: Record): void {
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const r = this.rules[i]!;
      if (r.kind === 'ttl') rr.ttl = Math.min(r.max, Math.max(r.min, rr.ttl ?? 0));
      else if (r.kind === 'name') rr.name = this.rename(rr.name, r.rewrite);
      else rewriteValue(rr, (n) => this.rename(n, r.rewrite));
    }
  }

  /** Applies `f` to a dns-packet name (no trailing dot), keeping the input when nothing changes. */
  private rename(name: string, f: (fqdn: string) => string): string {
    const fqdn = name === '.' || name === '' ? '.' : `${name.toLowerCase()}.`;
    const next = f(fqdn);
    if (next === fqdn) return name;
    if (next === this.clientName) return readName(this.req.wire, HEADER_LEN, false).name;
    return next;
  }
}

/** The names inside record data that `answer value` rewrites (CoreDNS getRecordValueForRewrite). */
function rewriteValue(rr: Record, f: (name: string) => string): void {
  switch (rr.type) {
    case 'CNAME':
    case 'NS':
    case 'PTR':
    case 'DNAME':
      rr.data = f(rr.data);
      return;
    case 'SRV':
      rr.data.target = f(rr.data.target);
      return;
    case 'MX':
      rr.data.exchange = f(rr.data.exchange);
      return;
    case 'SOA':
      rr.data.mname = f(rr.data.mname);
      return;
    case 'NAPTR':
      rr.data.replacement = f(rr.data.replacement);
      return;
  }
}
