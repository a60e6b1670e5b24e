// The cache plugin: handler behaviour with real queries (dns-packet) and a
// MessageBuilder-based next handler on a fake clock, plus Corefile parsing.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import * as packet from 'dns-packet';
import { App } from '../src/app.js';
import type { Handler, ResponseWriter, Result } from '../src/chain/plugin.js';
import { parseCorefile } from '../src/corefile/index.js';
import { CorefileError } from '../src/corefile/types.js';
import { MessageBuilder, type RR } from '../src/dns/builder.js';
import { Flag, Rcode, Type } from '../src/dns/constants.js';
import { parseRequest, type Request } from '../src/dns/request.js';
import { createLogger } from '../src/log.js';
import { CacheHandler, type CacheOptions } from '../plugins/cache/handler.js';
import { parseCache } from '../plugins/cache/setup.js';
import { CacheStore } from '../plugins/cache/store.js';

const SERVER = 'dns://:53';

function newApp(): App {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return new App({ corefile: 'Corefile', quiet: true, nodeName: 'n1' }, createLogger({ json: true, out: sink }));
}

function request(name: string, type: packet.RecordType = 'A', o: { id?: number; edns?: boolean; do?: boolean; cd?: boolean } = {}): Request {
  const wire = packet.encode({
    type: 'query',
    id: o.id ?? 1,
    flags: packet.RECURSION_DESIRED | (o.cd ? packet.CHECKING_DISABLED : 0),
    questions: [{ name, type, class: 'IN' }],
    additionals: o.edns || o.do ? [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: o.do ? packet.DNSSEC_OK : 0 } as packet.Answer] : [],
  });
  const req = parseRequest(wire, { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 5353, localAddress: '127.0.0.1', localPort: 53 })!;
  req.server = SERVER;
  return req;
}

class Capture implements ResponseWriter {
  written = false;
  msg: Buffer | undefined;
  write(msg: Buffer): void {
    this.written = true;
    this.msg = msg;
  }
  get packet(): packet.Packet {
    assert.ok(this.msg, 'nothing written');
    return packet.decode(this.msg);
  }
}

const soa = (zone: string, ttl: number, minimum: number): RR => ({
  name: zone,
  ttl,
  data: { type: Type.SOA, mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum },
});

/** What the fake next plugin does: write a reply built from the request, or return an rcode unwritten. */
type Answer = (req: Request) => Buffer | number;

const a =
  (ttl: number, ip = '10.0.0.1'): Answer =>
  (req) =>
    new MessageBuilder(req, Rcode.NOERROR, { aa: true })
      .answer({ name: req.qname, ttl, data: { type: Type.A, address: Buffer.from(ip.split('.').map(Number)) } })
      .finish();

class Next implements Handler {
  readonly name = 'next';
  calls = 0;
  constructor(public answer: Answer) {}
  serveDNS(req: Request, w: ResponseWriter): Result {
    this.calls++;
    const r = this.answer(req);
    if (typeof r === 'number') return r;
    w.write(r);
    return Rcode.NOERROR;
  }
}

function options(over: Partial<CacheOptions> = {}): CacheOptions {
  const { opts } = parseCache({ name: tok('cache'), args: [], block: null }, ['.']);
  return { ...opts, ...over };
}

function tok(text: string): { text: string; file: string; line: number } {
  return { text, file: 'Corefile', line: 1 };
}

function setup(answer: Answer, over: Partial<CacheOptions> = {}, caps = { success: 100, denial: 100 }) {
  const app = newApp();
  const clock = { t: 1_000_000 };
  const next = new Next(answer);
  const h = new CacheHandler(options(over), new CacheStore(caps), next, app, () => clock.t);
  const ask = (req: Request): Capture => {
    const w = new Capture();
    const r = h.serveDNS(req, w);
    assert.equal(typeof r, 'number', 'expected a synchronous result');
    return w;
  };
  return { app, clock, next, h, ask };
}

/** dns-packet decodes the rcode but its types do not declare it. */
const rcode = (p: packet.Packet): string | undefined => (p as { rcode?: string }).rcode;
const ttls = (p: packet.Packet): number[] => [...(p.answers ?? []), ...(p.authorities ?? [])].map((r) => (r as { ttl: number }).ttl);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('cache: hits', () => {
  it('answers a repeat from the cache, with the client ID and a decremented TTL', () => {
    const { clock, next, ask } = setup(a(60));
    const first = ask(request('api.default.cluster.local', 'A', { id: 11 })).packet;
    assert.equal(first.id, 11);
    assert.deepEqual(ttls(first), [60]);
    clock.t += 3_500;
    const second = ask(request('api.default.cluster.local', 'A', { id: 22 })).packet;
    assert.equal(next.calls, 1);
    assert.equal(second.id, 22);
    assert.deepEqual(ttls(second), [57]);
    assert.equal((second.answers![0] as { data: string }).data, '10.0.0.1');
    assert.ok(second.flags! & Flag.RD, 'RD copied from the query');
  });

  it('echoes the client letter case in the question', () => {
    const { next, ask } = setup(a(60));
    ask(request('api.default.cluster.local'));
    const hit = ask(request('ApI.DeFault.cluster.LOCAL', 'A', { id: 7 }));
    assert.equal(next.calls, 1);
    assert.equal(hit.packet.questions![0]!.name, 'ApI.DeFault.cluster.LOCAL');
  });

  it('keys on qtype, DO and CD', () => {
    const { next, ask } = setup(a(60));
    ask(request('x.example.org'));
    ask(request('x.example.org', 'A', { do: true }));
    ask(request('x.example.org', 'A', { cd: true }));
    ask(request('x.example.org', 'AAAA'));
    assert.equal(next.calls, 4);
    ask(request('x.example.org', 'A', { do: true }));
    ask(request('x.example.org', 'A', { cd: true }));
    assert.equal(next.calls, 4);
  });

  it('adds OPT only for clients that sent EDNS', () => {
    const { next, ask } = setup(a(60));
    ask(request('x.example.org', 'A', { edns: true }));
    const plain = ask(request('x.example.org')).packet;
    assert.equal(next.calls, 1);
    assert.equal(plain.additionals?.length ?? 0, 0);
    const edns = ask(request('x.example.org', 'A', { edns: true })).packet;
    assert.equal(edns.additionals?.length, 1);
    assert.equal(edns.additionals[0]!.type, 'OPT');
  });

  it('keepttl serves the entry TTL without ageing it', () => {
    const { clock, ask } = setup(a(60), { keepTtl: true });
    ask(request('x.example.org'));
    clock.t += 10_000;
    assert.deepEqual(ttls(ask(request('x.example.org')).packet), [60]);
  });

  it('clamps the TTL to [MINTTL, TTL] and expires the entry after it', () => {
    const { clock, next, ask } = setup(a(1), { success: { maxTtl: 3600, minTtl: 5 } });
    assert.deepEqual(ttls(ask(request('x.example.org')).packet), [5], 'the first reply carries the capped TTL too');
    clock.t += 4_000;
    assert.deepEqual(ttls(ask(request('x.example.org')).packet), [1]);
    clock.t += 1_000;
    ask(request('x.example.org'));
    assert.equal(next.calls, 2);
  });

  it('passes names outside its zones straight on', () => {
    const { next, ask } = setup(a(60), { zones: ['example.org.'] });
    ask(request('x.example.net'));
    ask(request('x.example.net'));
    assert.equal(next.calls, 2);
  });
});

describe('cache: what is stored', () => {
  const nx =
    (withSoa: boolean, recordTtl = 300, minimum = 30): Answer =>
    (req) => {
      const b = new MessageBuilder(req, Rcode.NXDOMAIN, { aa: true });
      if (withSoa) b.authority(soa('example.org.', recordTtl, minimum));
      return b.finish();
    };

  it('caches NXDOMAIN for the SOA minimum', () => {
    const { clock, next, ask } = setup(nx(true));
    const first = ask(request('nope.example.org')).packet;
    assert.equal(rcode(first), 'NXDOMAIN');
    assert.deepEqual(ttls(first), [30]);
    clock.t += 29_000;
    assert.deepEqual(ttls(ask(request('nope.example.org')).packet), [1]);
    clock.t += 1_000;
    ask(request('nope.example.org'));
    assert.equal(next.calls, 2);
  });

  it('caches NODATA with SOA as denial, bounded by the denial TTL', () => {
    const nodata: Answer = (req) => new MessageBuilder(req, Rcode.NOERROR).authority(soa('example.org.', 3000, 3000)).finish();
    const { next, ask } = setup(nodata, { denial: { maxTtl: 20, minTtl: 5 } });
    assert.deepEqual(ttls(ask(request('x.example.org', 'TXT')).packet), [20]);
    ask(request('x.example.org', 'TXT'));
    assert.equal(next.calls, 1);
  });

  it('does not cache NXDOMAIN or NODATA without SOA, TC replies, or other rcodes', () => {
    const noSoa = setup(nx(false));
    noSoa.ask(request('nope.example.org'));
    noSoa.ask(request('nope.example.org'));
    assert.equal(noSoa.next.calls, 2);

    const emptyNoerror = setup((req) => new MessageBuilder(req, Rcode.NOERROR).finish());
    emptyNoerror.ask(request('x.example.org'));
    emptyNoerror.ask(request('x.example.org'));
    assert.equal(emptyNoerror.next.calls, 2);

    const tc = setup((req) => {
      const m = a(60)(req) as Buffer;
      m.writeUInt16BE(m.readUInt16BE(2) | Flag.TC, 2);
      return m;
    });
    tc.ask(request('x.example.org'));
    tc.ask(request('x.example.org'));
    assert.equal(tc.next.calls, 2);

    const refused = setup((req) => new MessageBuilder(req, Rcode.REFUSED).finish());
    refused.ask(request('x.example.org'));
    refused.ask(request('x.example.org'));
    assert.equal(refused.next.calls, 2);
  });

  it('caches a written SERVFAIL for the servfail duration only', () => {
    const { clock, next, ask } = setup((req) => new MessageBuilder(req, Rcode.SERVFAIL).finish(), { servfailTtl: 5 });
    assert.equal(rcode(ask(request('x.example.org')).packet), 'SERVFAIL');
    clock.t += 4_000;
    assert.equal(rcode(ask(request('x.example.org')).packet), 'SERVFAIL');
    assert.equal(next.calls, 1);
    clock.t += 1_000;
    ask(request('x.example.org'));
    assert.equal(next.calls, 2);

    const off = setup((req) => new MessageBuilder(req, Rcode.SERVFAIL).finish(), { servfailTtl: 0 });
    off.ask(request('x.example.org'));
    off.ask(request('x.example.org'));
    assert.equal(off.next.calls, 2);
  });

  it('does not store an unwritten error rcode', () => {
    const { next, h } = setup(() => Rcode.SERVFAIL);
    const w = new Capture();
    assert.equal(h.serveDNS(request('x.example.org'), w), Rcode.SERVFAIL);
    assert.equal(w.written, false);
    void h.serveDNS(request('x.example.org'), new Capture());
    assert.equal(next.calls, 2);
  });

  it('evicts the oldest entry when a cache is full, and counts it', async () => {
    const { app, next, ask } = setup(a(60), {}, { success: 2, denial: 2 });
    for (const n of ['a', 'b', 'c']) ask(request(`${n}.example.org`));
    ask(request('c.example.org'));
    ask(request('b.example.org'));
    assert.equal(next.calls, 3);
    ask(request('a.example.org'));
    assert.equal(next.calls, 4);
    const text = await app.metrics.metrics();
    assert.match(text, /coredns_cache_evictions_total\{server="dns:\/\/:53",type="success",zones="\.",view=""\} 2/);
    assert.match(text, /coredns_cache_entries\{server="dns:\/\/:53",type="success",zones="\.",view=""\} 2/);
    assert.match(text, /coredns_cache_hits_total\{server="dns:\/\/:53",type="success",zones="\.",view=""\} 2/);
    assert.match(text, /coredns_cache_misses_total\{server="dns:\/\/:53",zones="\.",view=""\} 4/);
    assert.match(text, /coredns_cache_requests_total\{server="dns:\/\/:53",zones="\.",view=""\} 6/);
  });

  it('disable success|denial keeps that kind out of the listed zones', () => {
    const { next, ask } = setup(a(60), { disabled: { success: ['example.org.'], denial: [] } });
    ask(request('x.example.org'));
    ask(request('x.example.org'));
    assert.equal(next.calls, 2);
    ask(request('x.example.net'));
    ask(request('x.example.net'));
    assert.equal(next.calls, 3);
  });
});

describe('cache: prefetch and serve_stale', () => {
  it('prefetches a popular entry near the end of its TTL and keeps serving hits meanwhile', async () => {
    const { clock, next, ask } = setup(a(100), { prefetch: { amount: 2, durationMs: 60_000, percentage: 10 } });
    ask(request('x.example.org'));
    clock.t += 50_000;
    ask(request('x.example.org')); // hit 1, far from expiry
    clock.t += 41_000;
    const hit = ask(request('x.example.org')).packet; // hit 2, 9s left ≤ 10% of 100
    assert.deepEqual(ttls(hit), [9]);
    assert.equal(next.calls, 1, 'the refresh runs after the reply is written');
    await tick();
    assert.equal(next.calls, 2);
    assert.deepEqual(ttls(ask(request('x.example.org')).packet), [100]);
    assert.equal(next.calls, 2);
  });

  it('does not prefetch entries below AMOUNT hits', async () => {
    const { clock, next, ask } = setup(a(100), { prefetch: { amount: 3, durationMs: 60_000, percentage: 10 } });
    ask(request('x.example.org'));
    clock.t += 95_000;
    ask(request('x.example.org'));
    await tick();
    assert.equal(next.calls, 1);
  });

  it('serve_stale immediate answers an expired entry with TTL 0 and refreshes it in the background', async () => {
    const { app, clock, next, ask } = setup(a(10), { staleMs: 3_600_000 });
    ask(request('x.example.org'));
    next.answer = () => Rcode.SERVFAIL; // upstream down
    clock.t += 20_000;
    const stale = ask(request('x.example.org')).packet;
    assert.deepEqual(ttls(stale), [0]);
    assert.equal((stale.answers![0] as { data: string }).data, '10.0.0.1');
    await tick();
    assert.equal(next.calls, 2);
    assert.match(await app.metrics.metrics(), /coredns_cache_served_stale_total\{[^}]*\} 1/);
    next.answer = a(10, '10.0.0.2');
    ask(request('x.example.org'));
    await tick();
    assert.equal((ask(request('x.example.org')).packet.answers![0] as { data: string }).data, '10.0.0.2');
    clock.t += 3_700_000; // beyond the stale window: a miss
    const calls = next.calls;
    ask(request('x.example.org'));
    assert.equal(next.calls, calls + 1);
  });

  it('a SERVFAIL refresh does not push out a stale entry', async () => {
    const { clock, next, ask } = setup(a(10), { staleMs: 3_600_000 });
    ask(request('x.example.org'));
    next.answer = (req) => new MessageBuilder(req, Rcode.SERVFAIL).finish();
    clock.t += 20_000;
    ask(request('x.example.org'));
    await tick();
    assert.equal(rcode(ask(request('x.example.org')).packet), 'NOERROR');
  });

  it('serve_stale verify asks first and serves stale only when that fails', async () => {
    const { clock, next, h } = setup(a(10), { staleMs: 3_600_000, verifyStale: true });
    void h.serveDNS(request('x.example.org'), new Capture());
    clock.t += 20_000;
    next.answer = a(10, '10.0.0.2');
    let w = new Capture();
    await h.serveDNS(request('x.example.org'), w);
    assert.equal((w.packet.answers![0] as { data: string }).data, '10.0.0.2');
    assert.deepEqual(ttls(w.packet), [10]);

    clock.t += 20_000;
    next.answer = (req) => new MessageBuilder(req, Rcode.SERVFAIL).finish();
    w = new Capture();
    assert.equal(await h.serveDNS(request('x.example.org'), w), Rcode.NOERROR);
    assert.equal(rcode(w.packet), 'NOERROR');
    assert.deepEqual(ttls(w.packet), [0]);
  });
});

describe('cache: registry invalidation', () => {
  const endpoint = { namespace: 'default', service: 'api', name: 'api-1', nodeName: 'n1', address: '10.0.0.9', ports: [], healthy: true, updatedAt: 0 };

  it('drops entries in registry zones on a registry change, and keeps the rest', () => {
    const nxOrA: Answer = (req) =>
      req.qname.endsWith('cluster.local.') ? new MessageBuilder(req, Rcode.NXDOMAIN).authority(soa('cluster.local.', 5, 5)).finish() : a(60)(req);
    const { app, next, h, ask } = setup(nxOrA);
    app.registryZones.add('cluster.local.');
    const unwatch = h.watch();
    ask(request('api.default.svc.cluster.local'));
    ask(request('example.org'));
    assert.equal(next.calls, 2);
    app.registry.upsertEndpoint('test', endpoint);
    ask(request('api.default.svc.cluster.local'));
    ask(request('example.org'));
    assert.equal(next.calls, 3, 'only the registry-zone entry was dropped');
    unwatch();
    app.registry.upsertEndpoint('test', { ...endpoint, address: '10.0.0.10' });
    ask(request('api.default.svc.cluster.local'));
    assert.equal(next.calls, 3);
  });

  it('does not store an answer that was being made when the registry changed', async () => {
    const { app } = setup(a(60));
    app.registryZones.add('cluster.local.');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = new Next(a(60));
    const store = new CacheStore({ success: 10, denial: 10 });
    const h2 = new CacheHandler(
      options(),
      store,
      {
        name: 'slow',
        serveDNS: async (req, w) => {
          await gate;
          return slow.serveDNS(req, w);
        },
      },
      app,
    );
    h2.watch();
    const pending = h2.serveDNS(request('api.default.svc.cluster.local'), new Capture());
    app.registry.upsertEndpoint('test', endpoint);
    release();
    await pending;
    assert.equal(store.size('success'), 0);
  });
});

describe('cache: Corefile', () => {
  const parse = (text: string) => {
    const block = parseCorefile(text, 'Corefile', { env: {} })[0]!;
    const d = block.directives.find((x) => x.name.text === 'cache')!;
    return parseCache(
      d,
      block.keys.flatMap((k) => k.zones),
    );
  };
  const fails = (text: string, message: RegExp) =>
    assert.throws(
      () => parse(text),
      (err: unknown) => err instanceof CorefileError && message.test(err.message),
    );

  it('takes CoreDNS defaults', () => {
    const { opts, caps } = parse('example.org {\n  cache\n}\n');
    assert.deepEqual(caps, { success: 9984, denial: 9984 });
    assert.deepEqual(opts.zones, ['example.org.']);
    assert.deepEqual(opts.success, { maxTtl: 3600, minTtl: 5 });
    assert.deepEqual(opts.denial, { maxTtl: 1800, minTtl: 5 });
    assert.equal(opts.servfailTtl, 5);
    assert.equal(opts.prefetch.amount, 0);
    assert.equal(opts.staleMs, 0);
  });

  it('parses TTL, zones and every sub-directive', () => {
    const { opts, caps } = parse(
      '. {\n  cache 30 example.org 10.0.0.0/8 {\n    success 20000 60 10\n    denial 10 20\n    prefetch 5 2m 20%\n    serve_stale 30m verify\n    servfail 10s\n    disable denial example.org\n    keepttl\n  }\n}\n',
    );
    assert.deepEqual(opts.zones, ['example.org.', '10.in-addr.arpa.']);
    assert.deepEqual(caps, { success: 20000, denial: 1024 });
    assert.deepEqual(opts.success, { maxTtl: 60, minTtl: 10 });
    assert.deepEqual(opts.denial, { maxTtl: 20, minTtl: 5 });
    assert.deepEqual(opts.prefetch, { amount: 5, durationMs: 120_000, percentage: 20 });
    assert.equal(opts.staleMs, 1_800_000);
    assert.equal(opts.verifyStale, true);
    assert.equal(opts.servfailTtl, 10);
    assert.deepEqual(opts.disabled, { success: [], denial: ['example.org.'] });
    assert.equal(opts.keepTtl, true);
    assert.equal(parse('. {\n  cache {\n    serve_stale\n  }\n}\n').opts.staleMs, 3_600_000);
  });

  it('reports bad values with FILE:LINE', () => {
    fails('. {\n  cache 0\n}\n', /^Corefile:2: cache: TTL can not be zero or negative: 0$/);
    fails('. {\n  cache {\n    servfail 6m\n  }\n}\n', /^Corefile:3: cache: caching SERVFAIL responses over 5 minutes/);
    fails('. {\n  cache {\n    prefetch 1 1m 5%\n  }\n}\n', /^Corefile:3: cache: prefetch percentage/);
    fails('. {\n  cache {\n    serve_stale 1h later\n  }\n}\n', /^Corefile:3: cache: serve_stale refresh mode/);
    fails('. {\n  cache {\n    disable both\n  }\n}\n', /^Corefile:3: cache: disable takes success or denial/);
    fails('. {\n  cache {\n    success\n  }\n}\n', /^Corefile:3: success: expected 1 to 3 arguments, got 0/);
    fails('. {\n  cache {\n    bogus\n  }\n}\n', /^Corefile:3: cache: unknown property 'bogus'/);
  });
});
