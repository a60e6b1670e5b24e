// The two UDP I/O paths (-udp.io): the native addon's batches (recvmmsg/
// sendmmsg) and node:dgram. Which one runs is in the startup line and in
// /metrics; the batch path answers IPv4 and IPv6, replies that come later
// than their batch (forward) and ones that fill a slot, drops datagrams too
// big for a slot, survives a flood with its memory bounded, and gives each
// -workers process a socket of its own. The DNS end-to-end tests run on both
// paths (`npm test` runs them again with PODSWARM_UDP_IO=dgram).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dig } from './helpers/dig.js';
import { builtCli } from './helpers/dist.js';
import { dnsmasq, stopAllDnsmasq, type Dnsmasq } from './helpers/dnsmasq.js';
import { sample } from './helpers/metrics.js';
import { freePorts } from './helpers/ports.js';
import { decode, query, udpExchange } from './helpers/raw.js';
import { runCli, startServer, type RunningServer } from './helpers/server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADDON = join(ROOT, 'native/udp-batch/build/Release/udp_batch.node');
const [PORT, METRICS, UPSTREAM, CLIENT_PORT, DGRAM_PORT, DGRAM_METRICS, NO_ADDON_PORT, WORKERS_PORT] = await freePorts(8);
/** 400 A records for one name: about 6.5 KB on the wire, more than a 4 KB slot holds. */
const BIG = Array.from({ length: 400 }, (_, i) => `    10.3.${i >> 8}.${i & 0xff} big.batch.test`).join('\n');

const corefile = (port: number, metrics: number, extra = ''): string =>
  // bufsize 4096: replies as large as a slot (the server's own size is 1232 otherwise).
  `batch.test:${port} {\n  bind 127.0.0.1 ::1\n  bufsize 4096\n  prometheus 127.0.0.1:${metrics}\n  hosts {\n    10.3.9.1 local.batch.test\n${BIG}\n  }\n}\n` +
  `whoami.test:${port} {\n  bind 127.0.0.1 ::1\n  whoami\n}\n${extra}`;

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** VmRSS of a process in kB, from /proc. */
function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** Sends every datagram from `sock` and resolves once the kernel has taken them all. */
function sendAll(sock: Socket, msgs: Buffer[], port: number, host = '127.0.0.1'): Promise<void> {
  return Promise.all(msgs.map((m) => new Promise<void>((resolve) => sock.send(m, port, host, () => resolve())))).then(() => {});
}

/** Replies to `msgs` sent at once from one socket, keyed by DNS ID; resolves when `expect` arrived. */
function burst(msgs: Buffer[], port: number, expect: number): Promise<Map<number, Buffer>> {
  const sock = createSocket('udp4');
  const replies = new Map<number, Buffer>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`got ${replies.size} of ${expect} replies`));
    }, 5000);
    sock.on('message', (m) => {
      replies.set(m.readUInt16BE(0), m);
      if (replies.size === expect) {
        clearTimeout(timer);
        sock.close();
        resolve(replies);
      }
    });
    sock.bind(0, '127.0.0.1', () => void sendAll(sock, msgs, port));
  });
}

describe('-udp.io batch (the native addon)', () => {
  let srv: RunningServer;
  let upstream: Dnsmasq;
  before(async () => {
    assert.ok(existsSync(ADDON), `${ADDON} is missing: the addon must be built for this test (npm ci builds it; needs g++, make, python3)`);
    upstream = await dnsmasq(
      UPSTREAM,
      Array.from({ length: 20 }, (_, i) => `f${i}.far.test,10.4.0.${i + 1}`),
    );
    srv = await startServer({
      corefile: corefile(PORT, METRICS, `far.test:${PORT} {\n  bind 127.0.0.1\n  forward . 127.0.0.1:${UPSTREAM}\n}\n`),
      args: ['-udp.io', 'batch'],
    });
  });
  after(async () => {
    await srv?.stop();
    await upstream?.stop();
    stopAllDnsmasq();
  });

  it('says so in the startup line and in /metrics', async () => {
    assert.match(
      srv.output(),
      new RegExp(`^\\[INFO\\] podswarm-dns-\\S+ listening on dns://127\\.0\\.0\\.1:${PORT}, dns://\\[::1\\]:${PORT} \\(udp batch, tcp\\)$`, 'm'),
    );
    const text = await metricsText(METRICS);
    assert.equal(sample(text, 'podswarm_udp_io_info', { path: 'batch' }), 1);
    assert.equal(sample(text, 'podswarm_udp_io_info', { path: 'dgram' }), undefined);
  });

  for (const [family, host] of [
    ['IPv4', '127.0.0.1'],
    ['IPv6', '::1'],
  ] as const) {
    it(`answers over ${family} with the client's own address and port`, async () => {
      const r = await dig(PORT, 'who.whoami.test', 'A', ['-b', `${host}#${CLIENT_PORT}`], host);
      assert.equal(r.status, 'NOERROR');
      assert.deepEqual(
        r.additional.map((x) => [x.type, x.data]),
        [
          [family === 'IPv4' ? 'A' : 'AAAA', host],
          ['SRV', `0 0 ${CLIENT_PORT} .`],
        ],
      );
    });
  }

  it('answers a burst mixing local names and forwarded ones (sent after their batch), each by its ID', async () => {
    // Sent together from one socket, so they arrive in the same batches: the local
    // answers go back with the batch, the forwarded ones when the upstream answers.
    const msgs = Array.from({ length: 40 }, (_, i) => query(i % 2 === 0 ? 'local.batch.test' : `f${i >> 1}.far.test`, 'A', { id: 1000 + i }));
    const replies = await burst(msgs, PORT, msgs.length);
    for (let i = 0; i < msgs.length; i++) {
      const r = decode(replies.get(1000 + i)!);
      assert.equal(r.rcode, 'NOERROR', `query ${i}`);
      assert.deepEqual(
        r.answers.map((a) => a.data),
        [i % 2 === 0 ? '10.3.9.1' : `10.4.0.${(i >> 1) + 1}`],
        `query ${i}`,
      );
    }
  });

  it("sends a reply as large as a slot: 400 records truncated to the client's 4096 bytes", async () => {
    const r = await dig(PORT, 'big.batch.test', 'A', ['+bufsize=4096', '+ignore']);
    assert.equal(r.status, 'NOERROR');
    assert.ok(r.flags.includes('tc'), r.raw);
    const size = Number(/MSG SIZE {2}rcvd: (\d+)/.exec(r.raw)?.[1]);
    assert.ok(size > 4000 && size <= 4096, `${size} bytes`);
    assert.deepEqual(
      r.answer.slice(0, 2).map((a) => a.data),
      ['10.3.0.0', '10.3.0.1'],
    );
  });

  it('drops a datagram larger than a slot, counts it, and goes on answering', async () => {
    const before = sample(await metricsText(METRICS), 'podswarm_udp_dropped_total', { reason: 'truncated' }) ?? 0;
    const huge = Buffer.concat([query('local.batch.test', 'A', { id: 77 }), Buffer.alloc(5000, 0x41)]);
    assert.equal(await udpExchange(PORT, huge, 300), null);
    assert.equal(sample(await metricsText(METRICS), 'podswarm_udp_dropped_total', { reason: 'truncated' }), before + 1);
    assert.deepEqual(
      (await dig(PORT, 'local.batch.test')).answer.map((a) => a.data),
      ['10.3.9.1'],
    );
  });

  it('survives a flood of queries and garbage from clients that never read, with its memory bounded', async () => {
    // Warm up first, so the baseline holds what serving at all costs (JIT, caches).
    await burst(
      Array.from({ length: 60 }, (_, i) => query('local.batch.test', 'A', { id: i })),
      PORT,
      60,
    );
    const baseline = rssKb(srv.proc.pid!);
    let seed = 99;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    const socks = Array.from({ length: 4 }, () => createSocket('udp4'));
    try {
      for (let round = 0; round < 25; round++) {
        const msgs = Array.from({ length: 2000 }, (_, i) => {
          if (i % 3 !== 0) return query(i % 2 ? 'local.batch.test' : 'nothing.batch.test', 'A', { id: i });
          const b = Buffer.from(Array.from({ length: 1 + (rand() % 80) }, rand));
          if (b.length > 2) b[2] = b[2]! & 0x7f;
          return b;
        });
        await Promise.all(socks.map((s) => sendAll(s, msgs.slice(0, 500), PORT)));
        await Promise.all(socks.map((s) => sendAll(s, msgs.slice(500), PORT)));
      }
    } finally {
      for (const s of socks) s.close();
    }
    assert.deepEqual(
      (await dig(PORT, 'local.batch.test')).answer.map((a) => a.data),
      ['10.3.9.1'],
    );
    assert.equal(srv.proc.exitCode, null);
    const grown = rssKb(srv.proc.pid!) - baseline;
    assert.ok(grown < 64 * 1024, `RSS grew by ${grown} kB over 200,000 datagrams`);
  });
});

describe('-udp.io dgram (node:dgram)', () => {
  let srv: RunningServer;
  before(async () => {
    // The environment variable is the default; the flag beats it.
    srv = await startServer({ corefile: corefile(DGRAM_PORT, DGRAM_METRICS), env: { PODSWARM_UDP_IO: 'batch' }, args: ['-udp.io', 'dgram'] });
  });
  after(() => srv?.stop());

  it('says so in the startup line and in /metrics, and answers', async () => {
    assert.match(
      srv.output(),
      new RegExp(`^\\[INFO\\] podswarm-dns-\\S+ listening on dns://127\\.0\\.0\\.1:${DGRAM_PORT}, dns://\\[::1\\]:${DGRAM_PORT} \\(udp dgram, tcp\\)$`, 'm'),
    );
    assert.equal(sample(await metricsText(DGRAM_METRICS), 'podswarm_udp_io_info', { path: 'dgram' }), 1);
    assert.deepEqual(
      (await dig(DGRAM_PORT, 'local.batch.test', 'A', [], '::1')).answer.map((a) => a.data),
      ['10.3.9.1'],
    );
  });
});

describe('choosing the path', () => {
  let copy: string;
  before(() => {
    // The package without the addon built, as `npm ci` leaves it on a machine without a compiler.
    copy = mkdtempSync(join(tmpdir(), 'podswarm-noaddon-'));
    cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
    builtCli(); // a stale dist/ fails here, not as a copy that runs old code
    cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  it('refuses a mode it does not know, on the command line and in PODSWARM_UDP_IO', async () => {
    const flag = await runCli(['-udp.io', 'fast']);
    assert.equal(flag.code, 2);
    assert.match(flag.output, /^podswarm-dns: -udp\.io: 'fast' is not one of auto, batch, dgram$/m);
    const env = await runCli(['-conf', '/nonexistent'], { PODSWARM_UDP_IO: 'fast' });
    assert.equal(env.code, 2);
    assert.match(env.output, /^podswarm-dns: PODSWARM_UDP_IO: 'fast' is not one of auto, batch, dgram$/m);
  });

  it('without the addon: auto runs node:dgram and says so, batch refuses to start and says why', async () => {
    const conf = join(copy, 'Corefile');
    writeFileSync(conf, `.:${NO_ADDON_PORT} {\n  bind 127.0.0.1\n  whoami\n}\n`);
    const auto = runCopy(['-udp.io', 'auto']);
    try {
      assert.match(await auto.ready, new RegExp(`listening on dns://127\\.0\\.0\\.1:${NO_ADDON_PORT} \\(udp dgram, tcp\\)$`, 'm'));
      assert.equal((await dig(NO_ADDON_PORT, 'x.test')).status, 'NOERROR');
    } finally {
      auto.proc.kill();
      await auto.exit;
    }
    const forced = runCopy(['-udp.io', 'batch']);
    assert.equal(await forced.exit, 1);
    assert.match(forced.output(), /-udp\.io batch: the native UDP addon cannot be used: \S+udp_batch\.node is not built/);
  });

  /** The copied package's CLI on `copy`/Corefile: resolves `ready` with its output once it listens. */
  function runCopy(args: string[]): { proc: ChildProcess; ready: Promise<string>; exit: Promise<number | null>; output(): string } {
    const proc = spawn(process.execPath, [join(copy, 'dist/src/cli.js'), '-conf', join(copy, 'Corefile'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exit = new Promise<number | null>((resolve) => proc.once('exit', resolve));
    const ready = new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        out += d.toString();
        if (/listening on/.test(out)) resolve(out);
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      void exit.then(() => reject(new Error(`exited before listening:\n${out}`)));
    });
    ready.catch(() => {});
    return { proc, ready, exit, output: () => out };
  }

  it('-workers 2 on the batch path: each worker its own SO_REUSEPORT socket, both answering', async () => {
    const srv = await startServer({ corefile: `.:${WORKERS_PORT} {\n  bind 127.0.0.1\n  whoami\n}\n`, args: ['-workers', '2', '-udp.io', 'batch'] });
    try {
      assert.match(srv.output(), /\(udp batch, tcp; 2 worker processes\)$/m);
      const sockets = execFileSync('ss', ['-uanpH', `sport = :${WORKERS_PORT}`])
        .toString()
        .trim()
        .split('\n');
      const pids = new Set(sockets.map((l) => /pid=(\d+)/.exec(l)?.[1]));
      assert.equal(sockets.length, 2, sockets.join('\n'));
      assert.equal(pids.size, 2, `two processes hold the port: ${sockets.join('\n')}`);
      for (let i = 0; i < 10; i++) assert.equal((await dig(WORKERS_PORT, 'x.test')).status, 'NOERROR');
    } finally {
      await srv.stop();
    }
  });
});
