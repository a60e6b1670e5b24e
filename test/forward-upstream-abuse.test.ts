// The forward path against an upstream on loopback that misbehaves per query
// name (test/helpers/bad-upstream.ts), through the real server process:
// source ports and IDs a spoofer would have to guess, malformed replies that
// must never reach a client or the cache, the client's OPT (not the
// upstream's), SERVFAIL/REFUSED moving on to the next upstream, RA, and the
// cache's TTL bounds.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { badUpstream, GOOD_ADDRESS, type BadUpstream } from './helpers/bad-upstream.js';
import { dig } from './helpers/dig.js';
import { eventually } from './helpers/eventually.js';
import { freePort } from './helpers/ports.js';
import { sample } from './helpers/metrics.js';
import { decode, query, tcpExchange, udpExchange } from './helpers/raw.js';
import { startServer, type RunningServer } from './helpers/server.js';

interface Node {
  srv: RunningServer;
  port: number;
  metrics(): Promise<string>;
}

async function node(block: (port: number) => string, args: string[] = []): Promise<Node> {
  const port = await freePort();
  const metricsPort = await freePort();
  const corefile = `.:${port} {\n  bind 127.0.0.1\n  prometheus 127.0.0.1:${metricsPort}\n${block(port)}\n}\n`;
  const srv = await startServer({ corefile, args, ready: /listening on/ });
  return { srv, port, metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text() };
}

const ips = (r: ReturnType<typeof decode>) => r.answers.filter((a) => a.type === 'A').map((a) => a.data);
const opts = (r: ReturnType<typeof decode>) => r.additionals.filter((a) => a.type === 'OPT');

// In -workers processes too, where a UDP socket bound the shared way would come from the primary.
for (const args of [[], ['-workers', '2']])
  describe(`forward: source ports and IDs (RFC 5452) ${args.join(' ')}`, () => {
    let up: BadUpstream;
    let n: Node;
    before(async () => {
      up = await badUpstream();
      n = await node(() => `  forward . 127.0.0.1:${up.port}`, args);
    });
    after(async () => {
      await n?.srv.stop();
      await up?.stop();
    });

    it('sends 1000 upstream queries from several hundred source ports, with IDs spread evenly', async () => {
      const total = 1000;
      const inFlight = 50;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < total) {
          const i = next++;
          const r = await udpExchange(n.port, query(`q${i}.ports.test`, 'A', { id: i }), 3000);
          assert.ok(r, `query ${i} answered`);
          assert.deepEqual(ips(decode(r)), [GOOD_ADDRESS]);
        }
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
      const seen = up.seen.filter((s) => s.name.endsWith('.ports.test.') || s.name.endsWith('.ports.test'));
      assert.equal(seen.length, total);
      const ports = new Set(seen.map((s) => s.port));
      assert.ok(ports.size >= 300, `${ports.size} distinct source ports for ${total} queries`);
      const ids = seen.map((s) => s.id);
      assert.ok(new Set(ids).size >= 980, `${new Set(ids).size} distinct IDs`);
      // Eight equal ranges of the 16-bit space: 125 expected in each (sd ~10.5); ±50 is almost 5 sd.
      const bins = Array.from({ length: 8 }, (_, b) => ids.filter((id) => id >> 13 === b).length);
      for (const c of bins) assert.ok(c >= 75 && c <= 175, `ID ranges ${bins.join(' ')}`);
    });

    it('closes its upstream sockets once they idle: no descriptor outlives its queries for long', async () => {
      const sockets = async (): Promise<number> => {
        const { stdout } = await promisify(execFile)('ss', ['-Hanu', `dport = :${up.port}`]);
        return stdout.split('\n').filter((l) => l.trim() !== '').length;
      };
      await eventually(sockets, (n) => n === 0, `the server's UDP sockets to 127.0.0.1:${up.port} to close`, 10_000, 250);
    });
  });

describe('forward: malformed upstream replies', () => {
  let up: BadUpstream;
  let n: Node;
  before(async () => {
    up = await badUpstream();
    n = await node(() => `  forward . 127.0.0.1:${up.port}\n  cache`);
  });
  after(async () => {
    await n?.srv.stop();
    await up?.stop();
  });

  const kinds = ['loop', 'fwdptr', 'short', 'rdlen', 'trailing', 'twoopt'];
  for (const kind of kinds) {
    it(`${kind}: SERVFAIL, never forwarded, never cached, counted`, async () => {
      const name = `${kind}.bad.test`;
      const before = sample(await n.metrics(), 'coredns_forward_malformed_responses_total', { to: `127.0.0.1:${up.port}` }) ?? 0;
      for (const edns of [undefined, 1232]) {
        const r = decode((await udpExchange(n.port, query(name, 'A', { id: 77, edns }), 3000))!);
        assert.equal(r.id, 77);
        assert.equal(r.rcode, 'SERVFAIL');
        assert.deepEqual(r.answers, []);
      }
      // Not cached: each client query reached the upstream again (twice over UDP; a short one is not retried over TCP).
      assert.equal(up.count(`${name}`), 2);
      const after = sample(await n.metrics(), 'coredns_forward_malformed_responses_total', { to: `127.0.0.1:${up.port}` });
      assert.equal(after, before + 2);
    });
  }

  it('the same names over TCP: SERVFAIL too', async () => {
    const replies = await tcpExchange(
      n.port,
      kinds.map((k, i) => query(`${k}.tcp.test`, 'A', { id: 500 + i })),
    );
    for (const r of replies.map(decode)) assert.equal(r.rcode, 'SERVFAIL', `id ${r.id}`);
  });
});

describe("forward: the reply's OPT follows the client's query", () => {
  let up: BadUpstream;
  let n: Node;
  before(async () => {
    up = await badUpstream();
    n = await node(() => `  forward . 127.0.0.1:${up.port}\n  cache`);
  });
  after(async () => {
    await n?.srv.stop();
    await up?.stop();
  });

  it('no OPT to a client without EDNS, on the miss and on the hit, over UDP and TCP', async () => {
    for (const name of ['opt.udp.test', 'opt.udp.test']) {
      const r = decode((await udpExchange(n.port, query(name, 'A', { id: 5 })))!);
      assert.deepEqual(ips(r), [GOOD_ADDRESS]);
      assert.deepEqual(opts(r), [], "the upstream's OPT is not passed on");
    }
    assert.equal(up.count('opt.udp.test'), 1, 'the second was a cache hit');
    const [t] = await tcpExchange(n.port, [query('opt.tcp.test', 'A', { id: 6 })]);
    assert.deepEqual(opts(decode(t!)), []);
  });

  it('exactly one OPT, ours (1232), to a client with EDNS, on the miss and on the hit', async () => {
    for (let i = 0; i < 2; i++) {
      const r = decode((await udpExchange(n.port, query('opt.edns.test', 'A', { id: 7, edns: 4096 })))!);
      assert.deepEqual(ips(r), [GOOD_ADDRESS]);
      const o = opts(r);
      assert.equal(o.length, 1);
      assert.equal(o[0]!.udpPayloadSize, 1232);
    }
    assert.equal(up.count('opt.edns.test'), 1);
  });
});

describe('forward: SERVFAIL and REFUSED move on to the next upstream', () => {
  let failing: BadUpstream;
  let refusing: BadUpstream;
  let good: BadUpstream;
  let n: Node;
  before(async () => {
    failing = await badUpstream('servfail');
    refusing = await badUpstream('refused');
    good = await badUpstream();
    n = await node(() => `  forward . 127.0.0.1:${failing.port} 127.0.0.1:${refusing.port} 127.0.0.1:${good.port} {\n    policy sequential\n  }`);
  });
  after(async () => {
    await n?.srv.stop();
    for (const u of [failing, refusing, good]) await u?.stop();
  });

  it('answers from the third upstream after a SERVFAIL and a REFUSED', async () => {
    const r = await dig(n.port, 'www.retry.test', 'A');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(
      r.answer.map((a) => a.data),
      [GOOD_ADDRESS],
    );
    assert.deepEqual(
      [failing, refusing, good].map((u) => u.count('www.retry.test')),
      [1, 1, 1],
    );
  });

  it('passes the last refusal on when no upstream answers better', async () => {
    await good.stop();
    const r = await dig(n.port, 'down.retry.test', 'A');
    assert.equal(r.status, 'REFUSED');
    assert.deepEqual(
      [failing, refusing].map((u) => u.count('down.retry.test')),
      [1, 1],
    );
  });
});

describe('RA: one rule, set where the server block forwards', () => {
  let up: BadUpstream;
  let n: Node;
  let auth: number;
  before(async () => {
    up = await badUpstream();
    auth = await freePort();
    // A second server block without forward, on its own port.
    n = await node(() => `  cluster cluster.local\n  forward . 127.0.0.1:${up.port}\n}\nauth.local:${auth} {\n  bind 127.0.0.1\n  cluster auth.local`);
  });
  after(async () => {
    await n?.srv.stop();
    await up?.stop();
  });

  it('with forward: RA on cluster answers, forwarded answers and error replies alike', async () => {
    const cases = [
      await dig(n.port, 'cluster.local', 'SOA'),
      await dig(n.port, 'nope.cluster.local', 'A'),
      await dig(n.port, 'www.ra.test', 'A'),
      await dig(n.port, 'www.ra.test', 'A', ['-c', 'CH']),
    ];
    assert.deepEqual(
      cases.map((r) => r.status),
      ['NOERROR', 'NXDOMAIN', 'NOERROR', 'REFUSED'],
    );
    for (const r of cases) assert.ok(r.flags.includes('ra'), `${r.status}: ${r.flags.join(' ')}`);
  });

  it('without forward: no RA, not even on errors', async () => {
    const cases = [
      await dig(auth, 'auth.local', 'SOA'),
      await dig(auth, 'nope.auth.local', 'A'),
      await dig(auth, 'auth.local', 'A', ['-c', 'CH']),
      await dig(auth, 'elsewhere.test', 'A'),
    ];
    assert.deepEqual(
      cases.map((r) => r.status),
      ['NOERROR', 'NXDOMAIN', 'REFUSED', 'REFUSED'],
    );
    for (const r of cases) assert.ok(!r.flags.includes('ra'), `${r.status}: ${r.flags.join(' ')}`);
  });

  it('a forwarded reply says RA by our rule even when the upstream does not', async () => {
    const r = decode((await udpExchange(n.port, query('www.ra2.test', 'A', { rd: false })))!);
    assert.deepEqual(ips(r), [GOOD_ADDRESS]);
    const wire = (await udpExchange(n.port, query('www.ra2.test', 'A')))!;
    assert.equal(wire.readUInt16BE(2) & 0x0080, 0x0080);
  });
});

describe("cache: the TTL bounds of forwarded answers are the Corefile's", () => {
  let up: BadUpstream;
  let dflt: Node;
  let tuned: Node;
  before(async () => {
    up = await badUpstream();
    dflt = await node(() => `  forward . 127.0.0.1:${up.port}\n  cache`);
    tuned = await node(() => `  forward . 127.0.0.1:${up.port}\n  cache {\n    success 9984 86400 30\n  }`);
  });
  after(async () => {
    await dflt?.srv.stop();
    await tuned?.srv.stop();
    await up?.stop();
  });

  const ttl = async (n: Node, name: string) => decode((await udpExchange(n.port, query(name, 'A')))!).answers[0]!.ttl;

  it('by default 0xffffffff is served as 3600 and 0 as 5', async () => {
    assert.equal(await ttl(dflt, 'ttlmax.a.test'), 3600);
    assert.equal(await ttl(dflt, 'ttl0.a.test'), 5);
  });

  it('success CAPACITY TTL MINTTL moves both bounds', async () => {
    assert.equal(await ttl(tuned, 'ttlmax.b.test'), 86400);
    assert.equal(await ttl(tuned, 'ttl0.b.test'), 30);
  });
});
