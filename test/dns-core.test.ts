// The real server process, queried with dig/kdig and raw packets: cluster
// and srv answers record by record, EDNS0 and truncation, TCP pipelining,
// malformed input, and the server still answering after all of it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dig, kdig } from './helpers/dig.js';
import { freePort } from './helpers/ports.js';
import { decode, query, tcpExchange, udpExchange } from './helpers/raw.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { connect, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Handler, ResponseWriter } from '../src/chain/plugin.js';
import { MessageBuilder } from '../src/dns/builder.js';
import { Rcode, Type } from '../src/dns/constants.js';
import type { Request } from '../src/dns/request.js';
import { createLogger } from '../src/log.js';
import { Dispatcher } from '../src/server/dispatch.js';
import { listenTcp } from '../src/server/tcp.js';

const PORT = await freePort();

function registryYaml(): string {
  const big = Array.from({ length: 100 }, (_, i) => `      - { address: 10.9.${Math.floor(i / 250)}.${(i % 250) + 1} }`).join('\n');
  return `node: n1
services:
  - name: api
    namespace: production
    ports:
      - { name: http, port: 8080, protocol: tcp }
      - { name: grpc, port: 50051, protocol: tcp }
    endpoints:
      - { name: api-0, address: 10.0.3.1, node: n1 }
      - { name: api-1, address: 10.0.3.2, node: n2 }
      - { name: api-2, address: 10.0.3.3, node: n3, healthy: false }
  - name: redis
    namespace: cache
    ports:
      - { name: redis, port: 6379 }
    endpoints:
      - { name: redis-0, address: 10.0.2.1 }
      - { address: "fd00:10::21" }
  - name: down
    namespace: production
    endpoints:
      - { address: 10.0.5.1, healthy: false }
  - name: big
    namespace: load
    ports:
      - { name: http, port: 80 }
    endpoints:
${big}
`;
}

const COREFILE = `cluster.local:${PORT} in-addr.arpa:${PORT} ip6.arpa:${PORT} {
    bind 127.0.0.1
    srv cluster.local
    cluster cluster.local in-addr.arpa ip6.arpa {
        registry {{dir}}/services.yaml
    }
}
`;

let srv: RunningServer;

before(async () => {
  srv = await startServer({ corefile: COREFILE, files: { 'services.yaml': registryYaml() } });
});
after(async () => {
  await srv?.stop();
});

const sorted = (xs: string[]): string[] => [...xs].sort();

describe('cluster: A/AAAA', () => {
  it('answers both name forms with every healthy endpoint, TTL 60, authoritative', async () => {
    for (const name of ['api.production.cluster.local', 'api.production.svc.cluster.local']) {
      const r = await dig(PORT, name, 'A');
      assert.equal(r.status, 'NOERROR');
      assert.ok(r.flags.includes('aa'), `aa flag in ${r.flags}`);
      assert.deepEqual(
        r.answer.map((a) => [a.name, a.ttl, a.type, a.data]),
        [
          [`${name}.`, 60, 'A', '10.0.3.1'],
          [`${name}.`, 60, 'A', '10.0.3.2'],
        ],
      );
    }
  });

  it('answers AAAA from IPv6 endpoints and A from IPv4 ones', async () => {
    const a = await dig(PORT, 'redis.cache.cluster.local', 'A');
    assert.deepEqual(
      a.answer.map((x) => x.data),
      ['10.0.2.1'],
    );
    const aaaa = await kdig(PORT, 'redis.cache.cluster.local', 'AAAA');
    assert.deepEqual(
      aaaa.answer.map((x) => [x.type, x.data]),
      [['AAAA', 'fd00:10::21']],
    );
  });

  it('gives NODATA with the SOA for an existing name without that type', async () => {
    for (const [name, type] of [
      ['api.production.cluster.local', 'AAAA'],
      ['api.production.cluster.local', 'TXT'],
      ['production.cluster.local', 'A'],
      ['cluster.local', 'A'],
    ] as const) {
      const r = await dig(PORT, name, type);
      assert.equal(r.status, 'NOERROR', `${name} ${type}`);
      assert.equal(r.answer.length, 0);
      assert.deepEqual(
        r.authority.map((x) => [x.name, x.type]),
        [['cluster.local.', 'SOA']],
      );
      // RFC 2308: a cache keeps it for min(SOA TTL, MINIMUM), both the 5 s negative TTL.
      assert.equal(r.authority[0]!.ttl, 5);
      assert.match(r.authority[0]!.data, /^ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5$/);
    }
  });

  it('gives NXDOMAIN with the SOA for unknown services, namespaces and services with no healthy endpoint', async () => {
    for (const name of [
      'nope.production.cluster.local',
      'api.nope.cluster.local',
      'nope.cluster.local',
      'down.production.cluster.local',
      'a.b.c.d.e.cluster.local',
    ]) {
      const r = await dig(PORT, name, 'A');
      assert.equal(r.status, 'NXDOMAIN', name);
      assert.deepEqual(
        r.authority.map((x) => [x.type, x.ttl]),
        [['SOA', 5]],
      );
      assert.match(r.authority[0]!.data, / 5$/, 'MINIMUM is the negative TTL');
    }
    // srv's negative answers too; positive answers keep 60 s.
    const srv = await dig(PORT, '_nope._tcp.api.production.cluster.local', 'SRV');
    assert.equal(srv.status, 'NXDOMAIN');
    assert.deepEqual(
      srv.authority.map((x) => [x.type, x.ttl]),
      [['SOA', 5]],
    );
    assert.deepEqual([...new Set((await dig(PORT, 'api.production.cluster.local', 'A')).answer.map((x) => x.ttl))], [60]);
  });

  it('matches names case-insensitively and echoes the question as asked', async () => {
    const reply = await udpExchange(PORT, query('API.Production.CLUSTER.local', 'A', { id: 777 }));
    assert.ok(reply);
    const m = decode(reply);
    assert.equal(m.id, 777);
    assert.equal(m.questions?.[0]?.name, 'API.Production.CLUSTER.local');
    assert.deepEqual(sorted((m.answers ?? []).map((a) => String(a.data))), ['10.0.3.1', '10.0.3.2']);
  });

  it('answers per-endpoint names, by hostname and by dashed IP', async () => {
    const byName = await dig(PORT, 'api-1.api.production.svc.cluster.local', 'A');
    assert.deepEqual(
      byName.answer.map((x) => x.data),
      ['10.0.3.2'],
    );
    const dashed = await dig(PORT, 'fd00-10--21.redis.cache.cluster.local', 'AAAA');
    assert.deepEqual(
      dashed.answer.map((x) => x.data),
      ['fd00:10::21'],
    );
    const unhealthy = await dig(PORT, 'api-2.api.production.cluster.local', 'A');
    assert.equal(unhealthy.status, 'NXDOMAIN');
  });

  it('serves SOA and NS at the apex', async () => {
    const soa = await dig(PORT, 'cluster.local', 'SOA');
    assert.deepEqual(
      soa.answer.map((x) => [x.name, x.type, x.ttl]),
      [['cluster.local.', 'SOA', 60]],
    );
    assert.match(soa.answer[0]!.data, / 5$/, 'a cached SOA still gives negative answers 5 s');
    const ns = await dig(PORT, 'cluster.local', 'NS');
    assert.deepEqual(
      ns.answer.map((x) => [x.type, x.data]),
      [['NS', 'ns.dns.cluster.local.']],
    );
    assert.deepEqual(
      ns.additional.map((x) => [x.name, x.type, x.data]),
      [['ns.dns.cluster.local.', 'A', '127.0.0.1']],
    );
    // The NS target itself resolves (it has two labels, like a service name).
    const glue = await dig(PORT, 'ns.dns.cluster.local', 'A');
    assert.equal(glue.status, 'NOERROR');
    assert.deepEqual(
      glue.answer.map((x) => [x.name, x.type, x.data]),
      [['ns.dns.cluster.local.', 'A', '127.0.0.1']],
    );
    const none = await dig(PORT, 'ns.dns.cluster.local', 'AAAA');
    assert.equal(none.status, 'NOERROR');
    assert.equal(none.answer.length, 0);
  });

  it('answers PTR for endpoint addresses, v4 and v6', async () => {
    const v4 = await dig(PORT, '1.3.0.10.in-addr.arpa', 'PTR');
    assert.deepEqual(
      v4.answer.map((x) => [x.name, x.type, x.data]),
      [['1.3.0.10.in-addr.arpa.', 'PTR', 'api-0.api.production.svc.cluster.local.']],
    );
    const v6nibbles = '1.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.d.f.ip6.arpa';
    const v6 = await dig(PORT, v6nibbles, 'PTR');
    assert.deepEqual(
      v6.answer.map((x) => x.data),
      ['fd00-10--21.redis.cache.svc.cluster.local.'],
    );
    const none = await dig(PORT, '1.99.0.10.in-addr.arpa', 'PTR');
    assert.equal(none.status, 'NXDOMAIN');
  });
});

describe('srv', () => {
  it('answers a named port with one SRV per healthy endpoint and the targets in additional', async () => {
    const r = await dig(PORT, '_http._tcp.api.production.cluster.local', 'SRV');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(
      r.answer.map((x) => x.data),
      ['0 50 8080 api-0.api.production.svc.cluster.local.', '0 50 8080 api-1.api.production.svc.cluster.local.'],
    );
    assert.deepEqual(
      r.additional.map((x) => [x.name, x.type, x.data]),
      [
        ['api-0.api.production.svc.cluster.local.', 'A', '10.0.3.1'],
        ['api-1.api.production.svc.cluster.local.', 'A', '10.0.3.2'],
      ],
    );
  });

  it('lists every named port for SRV on the service name, in both forms', async () => {
    for (const name of ['api.production.cluster.local', 'api.production.svc.cluster.local']) {
      const r = await dig(PORT, name, 'SRV');
      assert.deepEqual(sorted(r.answer.map((x) => x.data.split(' ').slice(2, 3)[0]!)), ['50051', '50051', '8080', '8080']);
    }
  });

  it('gives NXDOMAIN for an unknown port name or protocol, NODATA for other types on a port name', async () => {
    assert.equal((await dig(PORT, '_nope._tcp.api.production.cluster.local', 'SRV')).status, 'NXDOMAIN');
    assert.equal((await dig(PORT, '_http._udp.api.production.cluster.local', 'SRV')).status, 'NXDOMAIN');
    const a = await dig(PORT, '_http._tcp.api.production.cluster.local', 'A');
    assert.equal(a.status, 'NOERROR');
    assert.equal(a.answer.length, 0);
  });
});

describe('EDNS0, truncation and TCP', () => {
  it('truncates a 100-endpoint answer over UDP without EDNS to 512 bytes, whole records, TC set', async () => {
    const reply = await udpExchange(PORT, query('big.load.cluster.local'));
    assert.ok(reply);
    assert.ok(reply.length <= 512, `reply is ${reply.length} bytes`);
    const m = decode(reply);
    assert.ok(m.flag_tc, 'TC set');
    assert.ok((m.answers?.length ?? 0) > 0 && (m.answers?.length ?? 0) < 100);
  });

  it("caps UDP replies at the smaller of the client's EDNS size and our 1232, which OPT advertises", async () => {
    const small = decode((await udpExchange(PORT, query('big.load.cluster.local', 'A', { edns: 1232 })))!);
    assert.ok(small.flag_tc);
    const opt = small.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    assert.equal(opt?.udpPayloadSize, 1232);
    // A client offering more still gets at most our 1232 over UDP (DNS Flag Day 2020; knot does the same).
    const offered = (await udpExchange(PORT, query('big.load.cluster.local', 'A', { edns: 4096 })))!;
    assert.ok(decode(offered).flag_tc);
    assert.ok(offered.length <= 1232, `${offered.length} bytes`);
  });

  it('gives the full answer over TCP (dig retries there after TC)', async () => {
    const r = await dig(PORT, 'big.load.cluster.local', 'A', ['+noedns']);
    assert.equal(r.answer.length, 100);
    assert.match(r.raw, /Truncated, retrying in TCP mode/);
    const tcp = await dig(PORT, 'big.load.cluster.local', 'A', ['+tcp']);
    assert.equal(tcp.answer.length, 100);
  });

  it('answers BADVERS to EDNS version 1', async () => {
    const r = await dig(PORT, 'api.production.cluster.local', 'A', ['+edns=1', '+noednsnegotiation']);
    assert.equal(r.status, 'BADVERS');
  });

  it('answers pipelined TCP queries on one connection, each matched by ID', async () => {
    const names = ['api.production.cluster.local', 'redis.cache.cluster.local', 'big.load.cluster.local', 'nope.production.cluster.local'];
    const msgs = Array.from({ length: 40 }, (_, i) => query(names[i % names.length]!, 'A', { id: 1000 + i }));
    const replies = (await tcpExchange(PORT, msgs)).map(decode);
    assert.deepEqual(sorted(replies.map((r) => String(r.id))), sorted(msgs.map((_, i) => String(1000 + i))));
    for (const r of replies) {
      const asked = names[(r.id - 1000) % names.length]!;
      assert.equal(r.questions?.[0]?.name, asked);
      assert.equal(r.rcode, asked.startsWith('nope') ? 'NXDOMAIN' : 'NOERROR');
    }
  });
});

describe('stuck TCP clients', () => {
  it('a half-open connection and one that never reads delay nobody else', async () => {
    const { connect } = await import('node:net');
    const open = (): Promise<import('node:net').Socket> =>
      new Promise((resolve, reject) => {
        const s = connect(PORT, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
    // One sends half a length prefix and stops; one pipelines 500 queries for the 100-endpoint answer and never reads.
    const half = await open();
    half.write(Buffer.from([0]));
    const deaf = await open();
    deaf.pause();
    const big = query('big.load.cluster.local', 'A', { id: 7 });
    const frame = Buffer.concat([Buffer.from([big.length >> 8, big.length & 0xff]), big]);
    deaf.write(Buffer.concat(Array.from({ length: 500 }, () => frame)));
    try {
      const udp = await dig(PORT, 'api.production.cluster.local');
      assert.equal(udp.answer.length, 2);
      const tcp = await dig(PORT, 'redis.cache.cluster.local', 'A', ['+tcp']);
      assert.deepEqual(
        tcp.answer.map((a) => a.data),
        ['10.0.2.1'],
      );
    } finally {
      half.destroy();
      deaf.destroy();
    }
  });
});

describe('malformed and unusual queries', () => {
  const hdr = (id: number, flags: number, qd: number): Buffer => {
    const b = Buffer.alloc(12);
    b.writeUInt16BE(id, 0);
    b.writeUInt16BE(flags, 2);
    b.writeUInt16BE(qd, 4);
    return b;
  };
  const q = (nameBytes: number[]): Buffer => Buffer.concat([hdr(9, 0x0100, 1), Buffer.from(nameBytes), Buffer.from([0, 1, 0, 1])]);
  const rcodeOf = (b: Buffer | null): number => (b ? b.readUInt16BE(2) & 0xf : -1);

  it('drops a message shorter than a header and one with QR set', async () => {
    assert.equal(await udpExchange(PORT, Buffer.from([1, 2, 3, 4, 5]), 300), null);
    assert.equal(await udpExchange(PORT, Buffer.concat([hdr(3, 0x8000, 1), Buffer.from([0, 0, 1, 0, 1])]), 300), null);
  });

  it('answers FORMERR to a compression-pointer loop, an oversized label, a truncated question and no question', async () => {
    const loop = q([0xc0, 12]);
    assert.equal(rcodeOf(await udpExchange(PORT, loop)), 1);
    const oversized = q([64, ...Buffer.alloc(64, 0x61), 0]);
    assert.equal(rcodeOf(await udpExchange(PORT, oversized)), 1);
    const cut = Buffer.concat([hdr(9, 0x0100, 1), Buffer.from([3, 0x61, 0x62])]);
    assert.equal(rcodeOf(await udpExchange(PORT, cut)), 1);
    assert.equal(rcodeOf(await udpExchange(PORT, hdr(9, 0x0100, 0))), 1);
    // A pointer into the header (offset 4 holds 0x00: the root) would read as "abc." — still malformed.
    assert.equal(rcodeOf(await udpExchange(PORT, q([3, 0x61, 0x62, 0x63, 0xc0, 4]))), 1);
  });

  it('answers NOTIMP to other opcodes and REFUSED to other classes and zones it does not serve', async () => {
    const status = query('api.production.cluster.local');
    status.writeUInt16BE(0x1000 | 0x0100, 2); // opcode 2 (STATUS)
    assert.equal(rcodeOf(await udpExchange(PORT, status)), 4);
    assert.equal((await dig(PORT, 'api.production.cluster.local', 'A', ['-c', 'CH'])).status, 'REFUSED');
    assert.equal((await dig(PORT, 'example.org', 'A')).status, 'REFUSED');
  });

  it('survives a burst of random garbage and still answers', async () => {
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let i = 0; i < 300; i++) {
      const len = 12 + (rand() % 60);
      const b = Buffer.from(Array.from({ length: len }, rand));
      b[2] = b[2]! & 0x7f; // a query, so the server reads the question
      await udpExchange(PORT, b, 20);
    }
    const r = await dig(PORT, 'api.production.cluster.local', 'A');
    assert.equal(r.answer.length, 2);
    assert.equal(srv.proc.exitCode, null);
  });
});

describe('TCP back-pressure', () => {
  it('resumes reading once a client that stopped reading catches up after the in-flight limit was hit', async () => {
    // Answers wait until released, so more than the in-flight limit (256) pile up; each reply is ~50 KB, more than the kernel buffers hold.
    let held: Array<() => void> | null = [];
    const big = (req: Request, w: ResponseWriter): void => {
      const txt = Array.from({ length: 200 }, () => 'x'.repeat(250));
      w.write(new MessageBuilder(req, Rcode.NOERROR).answer({ name: req.qname, ttl: 1, data: { type: Type.TXT, strings: txt } }).finish());
    };
    const chain: Handler = {
      name: 'slow',
      serveDNS(req, w) {
        if (held === null) {
          big(req, w);
          return Rcode.NOERROR;
        }
        const list = held;
        return new Promise<number>((resolve) => list.push(() => (big(req, w), resolve(Rcode.NOERROR))));
      },
    };
    const quiet = new Writable({ write: (_c, _e, cb) => cb() });
    const dispatcher = new Dispatcher([{ zones: ['.'], chain, server: 'dns://:18002', recursion: false }], createLogger({ json: false, out: quiet }));
    const listener = await listenTcp('127.0.0.1', 0, dispatcher);
    const sock = connect((listener.server.address() as AddressInfo).port, '127.0.0.1');
    try {
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.pause(); // the client does not read for now
      const frames = Array.from({ length: 400 }, (_, i) => {
        const q = query(`q${i}.example`, 'TXT', { id: i });
        return Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);
      });
      sock.write(Buffer.concat(frames));
      for (let i = 0; i < 100 && held.length < 256; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(held.length >= 256, `queries in flight: ${held.length}`);
      const release = held;
      held = null;
      for (const f of release) f();
      await new Promise((r) => setTimeout(r, 200));

      // Now read everything; then one more query must be answered.
      let buf = Buffer.alloc(0);
      const ids: number[] = [];
      let onReply: (() => void) | undefined;
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          ids.push(buf.readUInt16BE(2));
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
        onReply?.();
      });
      sock.resume();
      const until = (n: number, ms: number): Promise<boolean> =>
        new Promise((resolve) => {
          const t = setTimeout(() => resolve(false), ms);
          onReply = () => {
            if (ids.length >= n) {
              clearTimeout(t);
              resolve(true);
            }
          };
          onReply();
        });
      assert.ok(await until(400, 5000), `replies: ${ids.length} of 400`);
      const q = query('late.example', 'TXT', { id: 4000 });
      sock.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]));
      assert.ok(await until(401, 3000), 'a query sent after catching up is answered');
      assert.equal(ids[400], 4000);
    } finally {
      sock.destroy();
      await listener.close();
    }
  });
});
