// Registry scale: podswarm-dns with 100 and with 10,000 services × 3
// endpoints: startup, RSS, and the A answer rate over every service name.
// Part of `npm run bench`; alone: node --import tsx bench/registry-scale.ts [--quick]

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from './lib/args.js';
import { serviceAQueries, services } from './lib/data.js';
import { CLIENT_CPU, dnsperf, type PerfResult } from './lib/dnsperf.js';
import { ensureTools, machine, type Machine } from './lib/machine.js';
import { session, writeResult } from './lib/session.js';
import { podswarm, probeBuild, type Build } from './lib/servers/podswarm.js';
import { rssMiB, withCpu } from './lib/stats.js';

const PORT = 18770;
const SIZES = [100, 10000];
const RSS_LIMIT_MIB = 150;

interface Point {
  size: number;
  command: string;
  startupS: number;
  rssIdle: number;
  rssLoaded: number;
  cpuPercent: number;
  perf: PerfResult;
}

async function measure(size: number, dir: string, build: Build, seconds: number, warmSeconds: number): Promise<Point> {
  const data = services(size);
  const file = join(dir, `scale-${size}.txt`);
  writeFileSync(file, serviceAQueries(data));
  const spec = podswarm(build, 'cluster', { label: `podswarm-dns (${size} services)`, port: PORT, cpu: '0' });
  const t0 = process.hrtime.bigint();
  const server = await spec.launch({ dir, data, mode: 'cluster', upstreamPort: 0 });
  try {
    const startupS = Number(process.hrtime.bigint() - t0) / 1e9;
    const rssIdle = rssMiB(server.pid);
    await dnsperf({ port: PORT, file, seconds: warmSeconds, cpu: CLIENT_CPU });
    const { result: perf, cpuPercent } = await withCpu(server.pid, () => dnsperf({ port: PORT, file, seconds, cpu: CLIENT_CPU }));
    return { size, command: server.command, startupS, rssIdle, rssLoaded: rssMiB(server.pid), cpuPercent, perf };
  } finally {
    await server.stop();
  }
}

export async function registryScale(o: { dir: string; build: Build; m: Machine; quick: boolean; seconds: number; log: (l: string) => void }): Promise<void> {
  o.log('registry-scale:');
  const points: Point[] = [];
  for (const size of SIZES) {
    o.log(`  ${size} services`);
    points.push(await measure(size, o.dir, o.build, o.seconds, o.quick ? 1 : 2));
  }
  const [small, big] = points as [Point, Point];
  const change = (big.perf.qps / small.perf.qps - 1) * 100;
  const table = [
    '| services | endpoints | startup to first answer | RSS idle | RSS after load | queries/s | avg latency | lost | server CPU |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...points.map(
      (p) =>
        `| ${p.size.toLocaleString('en-US')} | ${(p.size * 3).toLocaleString('en-US')} | ${p.startupS.toFixed(2)} s | ${p.rssIdle.toFixed(1)} MiB | ${p.rssLoaded.toFixed(1)} MiB | ${Math.round(p.perf.qps).toLocaleString('en-US')} | ${p.perf.avgMs.toFixed(3)} ms | ${p.perf.lost} | ${p.cpuPercent.toFixed(0)}% |`,
    ),
    '',
    `- RSS with ${big.size.toLocaleString('en-US')} services: ${big.rssLoaded.toFixed(1)} MiB (target ≤ ${RSS_LIMIT_MIB} MB): ${big.rssLoaded <= RSS_LIMIT_MIB ? 'met' : 'NOT met'}.`,
    `- Answer rate change from ${small.size} services: ${change >= 0 ? '+' : ''}${change.toFixed(1)}% (target within ±10%): ${Math.abs(change) <= 10 ? 'met' : 'NOT met'}.`,
  ].join('\n');
  const text = [
    `# podswarm-dns benchmark: registry-scale (${o.m.date.slice(0, 10)})`,
    '',
    'podswarm-dns (cluster + srv, registry file) pinned to CPU 0, dnsperf on CPU 1; queries: A for every service name in both forms, shuffled. Each size in a fresh process.',
    `Machine: ${o.m.nproc} CPUs, ${o.m.cpuModel}; load average at start: ${o.m.loadAvg}. ${o.seconds} s per size after a warm-up.`,
    '',
    table,
    '',
    '## Commands',
    '',
    '```sh',
    ...points.flatMap((p) => [p.command, p.perf.command]),
    '```',
    '',
  ].join('\n');
  const file = writeResult('registry-scale', o.quick, text);
  process.stdout.write(`\n## registry-scale\n\n${table}\n\n(written to ${file})\n\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = parseArgs(process.argv.slice(2));
  session(async (dir) => {
    await ensureTools();
    const m = machine();
    await registryScale({ dir, build: await probeBuild(), m, quick: args.quick, seconds: args.seconds, log: (l) => void process.stderr.write(l + '\n') });
  }).catch((e: unknown) => {
    process.stderr.write(`registry-scale: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
