// In-process microbenchmark of the JavaScript one query costs on the batch UDP
// path: the listener (src/server/udp-batch.ts) on a stand-in for the native
// addon, the dispatcher and the chain of the `cluster` and `forward-cached`
// workloads (the Corefile of bench/lib/servers/podswarm.ts), fed the
// workloads' query files 64 datagrams a batch. The addon's C code and the
// kernel are not in it: this is the share of a query that is ours to cut.
// The same dispatcher driven as the node:dgram listener drives it (a
// datagram a call) gives the fallback path's share, node:dgram's own
// excepted.
// Not part of `npm run bench`; alone:
//   node --import tsx bench/chain.ts [--quick] [--rounds N] [--against DIR] [--digest]
// `--against DIR` loads another checkout's bench/chain.ts into the same
// process and measures both round by round (before/after on a noisy machine:
// compare the ratio). `--digest` prints a hash of every reply of one pass
// instead, with the clock stopped (cached TTLs do not count down): a change
// to the hot path must leave it as it was.

import * as dnsPacket from 'dns-packet';
import { createSocket, type Socket } from 'node:dgram';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { App } from '../src/app.js';
import { buildConfig, type Config } from '../src/config/build.js';
import { parseCorefile } from '../src/corefile/index.js';
import { Type } from '../src/dns/constants.js';
import type { Peer } from '../src/dns/request.js';
import { createLogger } from '../src/log.js';
import { Dispatcher } from '../src/server/dispatch.js';
import { listenUdpBatch } from '../src/server/udp-batch.js';
import { DgramReply, type UdpListener } from '../src/server/udp.js';
import { BATCH, CLIENT, CLIENT_PORT, StandInAddon } from '../test/helpers/addon-stand-in.js';
import { cachedQueries, clusterQueries, registryYaml, services } from './lib/data.js';
import { query } from './lib/probe.js';
import { NO_LIFECYCLE } from '../test/helpers/no-lifecycle.js';
import { corefile } from './lib/servers/podswarm.js';
import type { Mode } from './lib/servers/types.js';

/** dnsperf lines ("name TYPE") as wire queries, each with its own ID. */
function wireQueries(lines: string): Buffer[] {
  return lines
    .trim()
    .split('\n')
    .map((line, i) => {
      const [name, type] = line.split(' ') as [string, string];
      return query(name, Type[type as keyof typeof Type], (i * 7919) & 0xffff);
    });
}

/** The knot of the forward workloads, reduced to its answer: one A record for any name, TTL 3600. */
function upstream(): Promise<Socket> {
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions![0]!;
    const reply = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: [question],
      answers: [{ name: question.name, type: 'A', class: 'IN', ttl: 3600, data: '198.51.100.1' }],
    });
    sock.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => resolve(sock)));
}

interface Bench {
  addon: StandInAddon;
  /** The listener's dispatcher, for the dgram path's share. */
  dispatcher: Dispatcher;
  queries: Buffer[];
  stop(): Promise<void>;
}

/** `q` in mixed case, with an OPT record (UDP size 1232, DO set on every other): what the digest adds to the plain queries. */
function variant(q: Buffer, i: number): Buffer {
  const out = Buffer.concat([q, Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, i % 2 === 0 ? 0x80 : 0, 0, 0, 0])]);
  out.writeUInt16BE(1, 10);
  for (let p = 12; p < q.length - 4; p++) if (out[p]! >= 0x61 && out[p]! <= 0x7a && (p + i) % 3 === 0) out[p] = out[p]! - 0x20;
  return out;
}

async function start(mode: Mode, dir: string, variants: boolean): Promise<Bench> {
  const up = mode === 'cluster' ? undefined : await upstream();
  const registry = join(dir, 'services.yaml');
  writeFileSync(registry, registryYaml(services(100)));
  const file = join(dir, `Corefile.${mode}`);
  const text = corefile(mode, 5300, registry, up?.address().port ?? 0, undefined);
  writeFileSync(file, text);
  const app = new App({ corefile: file, quiet: true, nodeName: 'bench' }, createLogger({ json: true, out: new Writable({ write: (_c, _e, cb) => cb() }) }));
  const config: Config = buildConfig(parseCorefile(text, file, { defaultPort: 53 }), app, NO_LIFECYCLE);
  for (const fn of config.startup) await fn();
  const spec = [...config.listeners.values()][0]!;
  const addon = new StandInAddon();
  const dispatcher = new Dispatcher(spec.routes, app.log);
  const listener: UdpListener = listenUdpBatch(addon, spec.address, spec.port, dispatcher, false);
  const plain = wireQueries(mode === 'cluster' ? clusterQueries(services(100)) : cachedQueries());
  const queries = variants ? [...plain, ...plain.map(variant)] : plain;
  // One pass first, so every later query is a memo or cache hit; forwarded a few at a time (the upstream's socket buffer is small).
  const step = mode === 'cluster' ? BATCH : 16;
  for (let from = 0; from < queries.length; from += step) {
    const n = Math.min(step, queries.length - from);
    addon.fill(queries, from, n);
    const late = addon.late.length + n - addon.onBatch(n);
    const deadline = Date.now() + 5000;
    while (addon.late.length < late && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    if (addon.late.length < late) throw new Error(`warm-up: no answer from the upstream for ${late - addon.late.length} queries`);
  }
  return {
    addon,
    dispatcher,
    queries,
    async stop() {
      await listener.close();
      for (const fn of [...config.shutdown, ...config.finalShutdown]) await fn();
      up?.close();
    },
  };
}

/** CPU ns per query of `batches` batches of 64; with `answer` false only the stand-in's filling of the slots. */
export function cpuPerQuery(b: Bench, batches: number, answer: boolean): number {
  let from = 0;
  const t0 = process.cpuUsage();
  for (let k = 0; k < batches; k++) {
    b.addon.fill(b.queries, from, BATCH);
    if (answer && b.addon.onBatch(BATCH) !== BATCH) throw new Error('a query went unanswered within its batch: not a memo or cache hit');
    from = (from + BATCH) % b.queries.length;
  }
  const t = process.cpuUsage(t0);
  return ((t.user + t.system) * 1000) / (batches * BATCH);
}

/**
 * CPU ns per query of the dispatcher and chain driven as the node:dgram
 * listener drives them (src/server/udp.ts: a datagram a call, in a buffer of
 * its own, a peer and a reply per query): the fallback path's JavaScript
 * without node:dgram's own.
 */
export function dgramCpuPerQuery(b: Bench, queries: number): number {
  let answered = 0;
  // The listener's own reply, on a socket that only counts.
  const sock = { send: () => void answered++ } as unknown as Socket;
  const t0 = process.cpuUsage();
  for (let k = 0; k < queries; k++) {
    const peer: Peer = { proto: 'udp', remoteAddress: CLIENT, remotePort: CLIENT_PORT, localAddress: '127.0.0.1', localPort: 5300 };
    b.dispatcher.handle(b.queries[k % b.queries.length]!, peer, new DgramReply(sock, CLIENT_PORT, CLIENT));
  }
  const t = process.cpuUsage(t0);
  if (answered !== queries) throw new Error('a query went unanswered at once: not a memo or cache hit');
  return ((t.user + t.system) * 1000) / queries;
}

/** sha256 over one pass of every query's reply bytes, in order. */
export function digest(b: Bench): string {
  const hash = createHash('sha256');
  for (let from = 0; from < b.queries.length; from += BATCH) {
    const n = Math.min(BATCH, b.queries.length - from);
    b.addon.fill(b.queries, from, n);
    const replies = b.addon.onBatch(n);
    if (replies !== n) throw new Error('a query went unanswered within its batch: not a memo or cache hit');
    for (const r of b.addon.sent(replies)) if (r.msg) hash.update(r.msg);
  }
  return hash.digest('hex');
}

export const WORKLOADS = ['cluster', 'forward-cached'] as const;
type Workload = (typeof WORKLOADS)[number];

/** Every workload started and warmed up, in a scratch directory of its own. */
export async function startAll(variants: boolean): Promise<{ benches: Record<Workload, Bench>; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'podswarm-chain-'));
  const benches = { cluster: await start('cluster', dir, variants), 'forward-cached': await start('forward-cached', dir, variants) };
  return {
    benches,
    async stop() {
      for (const b of Object.values(benches)) await b.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** This checkout's functions, or another's (`--against DIR`): both run in this process, round by round. */
type Side = Pick<typeof import('./chain.js'), 'startAll' | 'cpuPerQuery' | 'dgramCpuPerQuery' | 'digest'>;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const rounds = Number(flag('--rounds') ?? (quick ? 3 : 9));
  const batches = quick ? 2000 : 10000;
  const against = flag('--against');
  const isDigest = argv.includes('--digest');
  if (isDigest) {
    const stopped = Date.now();
    Date.now = () => stopped;
  }
  const sides: Array<{ label: string; side: Side }> = [{ label: 'this', side: { startAll, cpuPerQuery, dgramCpuPerQuery, digest } }];
  if (against !== undefined) sides.push({ label: against, side: (await import(pathToFileURL(resolve(against, 'bench/chain.ts')).href)) as Side });
  const running: Array<Awaited<ReturnType<Side['startAll']>>> = [];
  for (const s of sides) running.push(await s.side.startAll(isDigest));
  try {
    if (isDigest) {
      for (const w of WORKLOADS) process.stdout.write(`${w} ${sides.map((s, i) => `${s.label} ${s.side.digest(running[i]!.benches[w])}`).join('  ')}\n`);
      return;
    }
    // Each workload on each path: the batch listener's, net of the stand-in's filling of the slots, and the dgram listener's way.
    const rows = WORKLOADS.flatMap((w) => [
      { label: `${w}, batch path`, w, measure: (side: Side, b: Bench) => side.cpuPerQuery(b, batches, true) - side.cpuPerQuery(b, batches, false) },
      { label: `${w}, dgram path (without node:dgram)`, w, measure: (side: Side, b: Bench) => side.dgramCpuPerQuery(b, batches * BATCH) },
    ]);
    const ns = sides.map(() => rows.map(() => [] as number[]));
    // Round by round, row by row, each side in turn (the first one alternating), so a noisy moment of the machine hits both.
    for (let r = 0; r <= rounds; r++) {
      rows.forEach((row, j) => {
        for (let k = 0; k < sides.length; k++) {
          const i = (k + r) % sides.length;
          const t = row.measure(sides[i]!.side, running[i]!.benches[row.w]);
          if (r > 0) ns[i]![j]!.push(t); // round 0 warms the JIT up
        }
      });
    }
    const head = sides.map((s) => `${s.label}: median (best)`);
    const table = [
      `| | ${head.join(' | ')} |${against === undefined ? '' : ' this / other, median of the rounds |'}`,
      `|---|${sides.map(() => '---:|').join('')}${against === undefined ? '' : '---:|'}`,
    ];
    rows.forEach((row, j) => {
      const cells = ns.map((n) => `${median(n[j]!).toFixed(0)} (${Math.min(...n[j]!).toFixed(0)})`);
      const ratio = against === undefined ? '' : ` ${median(ns[0]![j]!.map((t, r) => t / ns[1]![j]![r]!)).toFixed(3)} |`;
      table.push(`| ${row.label} | ${cells.join(' | ')} |${ratio}`);
    });
    process.stdout.write(`${table.join('\n')}\n(CPU ns per query; ${rounds} rounds of ${batches * BATCH} queries a row)\n`);
  } finally {
    for (const r of running) await r.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    process.stderr.write(`chain: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
