// The log plugin: Corefile parsing, the formatter on real queries, class and
// name filters, and the lines pino prints in text and JSON mode.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import type { Handler, ResponseWriter, SetupContext } from '../src/chain/plugin.js';
import { parseCorefile } from '../src/corefile/parse.js';
import { MessageBuilder } from '../src/dns/builder.js';
import { Rcode, Type } from '../src/dns/constants.js';
import { parseRequest, type Peer, type Request } from '../src/dns/request.js';
import { createLogger } from '../src/log.js';
import { classify, typify } from '../plugins/log/classify.js';
import { COMMON_FORMAT, compileFormat, render } from '../plugins/log/format.js';
import { parseDirective, plugin } from '../plugins/log/setup.js';

const V4: Peer = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 50759, localAddress: '127.0.0.1', localPort: 1053 };
const V6: Peer = { proto: 'tcp', remoteAddress: '::1', remotePort: 40000, localAddress: '::1', localPort: 1053 };

function query(name: string, type: dnsPacket.RecordType, opts: { id?: number; edns?: boolean; do?: boolean; peer?: Peer } = {}): Request {
  const wire = dnsPacket.encode({
    type: 'query',
    id: opts.id ?? 29008,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals:
      opts.edns === false
        ? []
        : [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: 4096,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: opts.do ? dnsPacket.DNSSEC_OK : 0,
              flag_do: opts.do ?? false,
              options: [],
            },
          ],
  });
  const req = parseRequest(wire, opts.peer ?? V4);
  assert.ok(req);
  // As dispatch sets it in a server block with forward, the block CoreDNS's sample lines come from.
  req.recursionAvailable = true;
  return req;
}

const a = (name: string) => ({ name, ttl: 30, data: { type: Type.A, address: Buffer.from([10, 0, 0, 1]) } }) as const;
const soa = {
  name: 'example.org.',
  ttl: 5,
  data: { type: Type.SOA, mname: 'ns.dns.example.org.', rname: 'hostmaster.example.org.', serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 },
} as const;

/** A chain end that answers by the query name: ok/nodata/nx/servfail/async. */
const answerer: Handler = {
  name: 'test',
  serveDNS(req: Request, w: ResponseWriter) {
    const label = req.qname.split('.')[0];
    if (label === 'servfail') return Rcode.SERVFAIL;
    if (label === 'refused') return Rcode.REFUSED;
    if (label === 'nx') {
      w.write(new MessageBuilder(req, Rcode.NXDOMAIN, { aa: true }).authority(soa).finish());
      return Rcode.NXDOMAIN;
    }
    if (label === 'nodata') {
      w.write(new MessageBuilder(req, Rcode.NOERROR, { aa: true }).authority(soa).finish());
      return Rcode.NOERROR;
    }
    const reply = () => {
      w.write(new MessageBuilder(req, Rcode.NOERROR, { aa: true }).answer(a(req.qname)).finish());
      return Rcode.NOERROR;
    };
    return label === 'async' ? new Promise<number>((resolve) => setImmediate(() => resolve(reply()))) : reply();
  },
};

/** Captures what the logger prints, one entry per line. */
function capture(): { out: NodeJS.WritableStream; lines: string[] } {
  const lines: string[] = [];
  const out = { write: (s: string) => lines.push(...s.split('\n').filter((l) => l !== '')) } as unknown as NodeJS.WritableStream;
  return { out, lines };
}

/** Runs the real setup on a Corefile and returns the chain it builds (log → answerer). */
function chain(corefile: string, json = false): { serve: (req: Request) => Promise<{ rcode: number; sent: Buffer | undefined }>; lines: string[] } {
  const { out, lines } = capture();
  const [block] = parseCorefile(corefile, 'Corefile');
  assert.ok(block);
  let handler: Handler | undefined;
  const ctx = {
    directives: block.directives.filter((d) => d.name.text === 'log'),
    block,
    zones: block.keys.flatMap((k) => k.zones),
    server: 'dns://:1053',
    app: { log: createLogger({ json, out }) },
    handler: (f: (next: Handler) => Handler) => (handler = f(answerer)),
  } as unknown as SetupContext;
  plugin.setup(ctx);
  assert.ok(handler);
  const h = handler;
  return {
    lines,
    async serve(req) {
      let sent: Buffer | undefined;
      const w: ResponseWriter = {
        get written() {
          return sent !== undefined;
        },
        write: (m) => void (sent ??= m),
      };
      return { rcode: await h.serveDNS(req, w), sent };
    },
  };
}

const DURATION = /\d+(\.\d+)?s$/;

describe('log: format', () => {
  it('prints the default (common) format exactly as CoreDNS does', async () => {
    const c = chain('.:1053 {\n log\n}');
    const req = query('Example.ORG', 'A');
    const { sent } = await c.serve(req);
    assert.equal(req.wire.length, 40);
    assert.equal(sent?.length, 56);
    assert.equal(c.lines.length, 1);
    const line = c.lines[0]!;
    assert.match(line, DURATION);
    assert.equal(line.replace(DURATION, 'Ds'), '[INFO] 127.0.0.1:50759 - 29008 "A IN example.org. udp 40 false 4096" NOERROR qr,aa,rd,ra 56 Ds');
  });

  it('brackets IPv6 remotes and reports TCP, no EDNS and the DO bit', async () => {
    const c = chain('. {\n log\n}');
    await c.serve(query('example.org', 'AAAA', { id: 7, edns: false, peer: V6 }));
    await c.serve(query('example.org', 'A', { id: 8, do: true }));
    assert.match(c.lines[0]!, /^\[INFO\] \[::1\]:40000 - 7 "AAAA IN example\.org\. tcp 29 false 65535" NOERROR qr,aa,rd,ra 45 \d/);
    assert.match(c.lines[1]!, /^\[INFO\] 127\.0\.0\.1:50759 - 8 "A IN example\.org\. udp 40 true 4096" NOERROR /);
  });

  it('prints an IPv4-mapped remote as IPv4, like Go', () => {
    const req = query('example.org', 'A', { edns: false, peer: { ...V4, remoteAddress: '::ffff:203.0.113.1' } });
    const msg = new MessageBuilder(req, Rcode.NOERROR).finish();
    assert.equal(render(compileFormat('{remote} {local}'), { req, name: req.qname, msg, start: 0n, end: 0n }), '203.0.113.1 127.0.0.1');
  });

  it('renders every placeholder of a custom format', () => {
    const req = query('www.example.org', 'SRV', { id: 4242, edns: false, peer: V6 });
    const msg = new MessageBuilder(req, Rcode.NXDOMAIN, { aa: true }).authority(soa).finish();
    const f = compileFormat('{type}|{name}|{class}|{proto}|{remote}|{local}|{size}|{port}|{rcode}|{rsize}|{>rflags}|{>bufsize}|{>do}|{>id}|{>opcode}');
    const line = render(f, { req, name: req.qname, msg, start: 0n, end: 1_500_000n });
    assert.equal(line, `SRV|www.example.org.|IN|tcp|[::1]|[::1]|${req.wire.length}|40000|NXDOMAIN|${msg.length}|qr,aa,rd,ra|65535|false|4242|0`);
    assert.equal(render(compileFormat('{duration}'), { req, name: req.qname, msg, start: 0n, end: 1_500_000n }), '0.0015s');
    assert.equal(render(compileFormat('{duration}'), { req, name: req.qname, msg, start: 0n, end: 250n }), '0.00000025s');
  });

  it('keeps unknown placeholders literal and fills metadata', () => {
    const req = query('example.org', 'A');
    const msg = new MessageBuilder(req, Rcode.NOERROR, { aa: true }).authority(soa).finish();
    const f = compileFormat('A } {nope} { {type} {/log/type} {/log/class} {/other}');
    assert.equal(render(f, { req, name: req.qname, msg, start: 0n, end: 0n }), 'A } {nope} { A NODATA denial -');
  });

  it('expands {common} and {combined}, and takes the last argument with a brace as the format', () => {
    const [block] = parseCorefile('. {\n log example.org. Example.NET "{name} {combined}"\n log {common}\n}', 'Corefile');
    const [first, second] = block!.directives.map(parseDirective);
    assert.deepEqual(
      first!.map((r) => r.scope),
      ['example.org.', 'example.net.'],
    );
    const req = query('example.org', 'A', { edns: false });
    const msg = new MessageBuilder(req, Rcode.NOERROR).finish();
    const line = render(first![0]!.format, { req, name: req.qname, msg, start: 0n, end: 0n });
    assert.match(line, /^example\.org\. 127\.0\.0\.1:50759 - 29008 "A IN example\.org\. udp 29 false 512" NOERROR qr,rd,ra 29 0s "0"$/);
    assert.deepEqual(
      second!.map((r) => r.scope),
      ['.'],
    );
    assert.equal(
      render(second![0]!.format, { req, name: req.qname, msg, start: 0n, end: 0n }),
      render(compileFormat(COMMON_FORMAT), { req, name: req.qname, msg, start: 0n, end: 0n }),
    );
  });
});

describe('log: filters', () => {
  it('logs only names under NAMES, first matching rule wins', async () => {
    const c = chain('. {\n log example.org "A {name}"\n log . "B {name}"\n}');
    await c.serve(query('www.example.org', 'A'));
    await c.serve(query('example.net', 'A'));
    await c.serve(query('notexample.org', 'A'));
    assert.deepEqual(c.lines, ['[INFO] A www.example.org.', '[INFO] B example.net.', '[INFO] B notexample.org.']);
  });

  it('does not log names outside every rule, and still answers them', async () => {
    const c = chain('. {\n log example.org\n}');
    const { rcode, sent } = await c.serve(query('example.net', 'A'));
    assert.equal(rcode, Rcode.NOERROR);
    assert.ok(sent);
    assert.deepEqual(c.lines, []);
  });

  it('classifies responses like CoreDNS and filters by class', async () => {
    const names = ['ok', 'nx', 'nodata', 'servfail', 'refused'].map((l) => `${l}.example.org`);
    const logged = async (classes: string) => {
      const c = chain(`. {\n log . "{name} {rcode} {/log/class}" {\n  class ${classes}\n }\n}`);
      for (const n of names) await c.serve(query(n, 'A'));
      return c.lines.map((l) => l.slice('[INFO] '.length));
    };
    assert.deepEqual(await logged('success'), ['ok.example.org. NOERROR success']);
    assert.deepEqual(await logged('denial'), ['nx.example.org. NXDOMAIN denial', 'nodata.example.org. NOERROR denial']);
    assert.deepEqual(await logged('error'), ['servfail.example.org. SERVFAIL error', 'refused.example.org. REFUSED error']);
    assert.equal((await logged('denial\n  class success')).length, 3);
    assert.equal((await logged('error all')).length, 5);
  });

  it('types delegations, NXDOMAIN with answers and transfers', () => {
    const req = query('sub.example.org', 'A');
    const ns = { name: 'sub.example.org.', ttl: 5, data: { type: Type.NS, target: 'ns.sub.example.org.' } } as const;
    assert.equal(typify(new MessageBuilder(req, Rcode.NOERROR).authority(ns).finish(), req.qtype), 'DELEGATION');
    assert.equal(typify(new MessageBuilder(req, Rcode.NXDOMAIN).answer(a(req.qname)).finish(), req.qtype), 'OTHERERROR');
    assert.equal(typify(new MessageBuilder(req, Rcode.NOERROR).finish(), Type.AXFR), 'META');
    assert.equal(classify('DELEGATION'), 'success');
  });
});

describe('log: unwritten errors and async chains', () => {
  it('logs the error reply the server will write for an unwritten rcode', async () => {
    const c = chain('. {\n log\n}');
    const req = query('servfail.example.org', 'A');
    const { rcode, sent } = await c.serve(req);
    assert.equal(rcode, Rcode.SERVFAIL);
    assert.equal(sent, undefined);
    // Header + question + our OPT, RA set: what errorResponse() puts on the wire.
    assert.match(c.lines[0]!, /"A IN servfail\.example\.org\. udp 49 false 4096" SERVFAIL qr,rd,ra 49 \d/);
  });

  it('logs after an async answer and returns its rcode', async () => {
    const c = chain('. {\n log\n}');
    const { rcode, sent } = await c.serve(query('async.example.org', 'A'));
    assert.equal(rcode, Rcode.NOERROR);
    assert.ok(sent);
    assert.match(c.lines[0]!, /"A IN async\.example\.org\. udp \d+ false 4096" NOERROR qr,aa,rd,ra \d+ \d/);
  });
});

describe('log: output', () => {
  it('writes JSON lines through pino with -log.json', async () => {
    const c = chain('. {\n log\n}', true);
    await c.serve(query('example.org', 'A'));
    const o = JSON.parse(c.lines[0]!) as { level: number; time: number; msg: string };
    assert.equal(o.level, 30);
    assert.equal(typeof o.time, 'number');
    assert.match(o.msg, /^127\.0\.0\.1:50759 - 29008 "A IN example\.org\. udp 40 false 4096" NOERROR qr,aa,rd,ra 56 \d+(\.\d+)?s$/);
  });

  it('skips formatting when info is disabled', async () => {
    const { out, lines } = capture();
    const [block] = parseCorefile('. {\n log\n}', 'Corefile');
    const log = createLogger({ json: false, out, level: 'warn' });
    let handler: Handler | undefined;
    plugin.setup({ directives: block!.directives, app: { log }, handler: (f: (n: Handler) => Handler) => (handler = f(answerer)) } as unknown as SetupContext);
    const w: ResponseWriter = { written: false, write: () => {} };
    assert.equal(await handler!.serveDNS(query('example.org', 'A'), w), Rcode.NOERROR);
    assert.deepEqual(lines, []);
  });
});

describe('log: Corefile errors', () => {
  const parse = (text: string) => () => parseCorefile(text, 'Corefile')[0]!.directives.map(parseDirective);
  it('rejects bad classes and properties with FILE:LINE', () => {
    assert.throws(parse('. {\n log {\n  class bogus\n }\n}'), /Corefile:3: log: invalid class 'bogus'/);
    assert.throws(parse('. {\n log {\n  class\n }\n}'), /Corefile:3: log: class needs/);
    assert.throws(parse('. {\n log {\n  format x\n }\n}'), /Corefile:3: log: unknown property 'format'/);
  });
});
