// Markdown for a workload: the tables, the targets of issues 4 and 19 as
// measured in this run, the exact commands and the machine.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Machine } from './machine.js';
import type { Mode } from './servers/types.js';
import { FIXED_RATE, type Row, type Timing, type WorkloadResult } from './workload.js';

const DESCRIPTIONS: Record<Mode, string> = {
  cluster:
    '100 services × 3 endpoints under cluster.local: 75% A over both name forms (`svcN.bench.cluster.local`, `svcN.bench.svc.cluster.local`), 10% AAAA (NODATA), 10% SRV (`_http._tcp.svcN.bench.cluster.local`, 3 targets, port 8080), 5% NXDOMAIN.',
  'forward-cached':
    "1000 names outside the zone (`hN.ext.test`), forwarded to a knot on loopback and then answered from each server's cache (warm-up pass first).",
  'forward-miss':
    "every query a new name under the upstream's wildcard (`*.miss.test`), so every query is forwarded to the knot on loopback; podswarm-dns without cache, dnsmasq `cache-size=0`.",
};

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '—' : `${n.toFixed(3)} ms`);
const pct = (n: number): string => `${n < 10 ? n.toFixed(2) : n.toFixed(1)}%`;
const lostPct = (r: { sent: number; lost: number }): number => (r.sent === 0 ? 0 : (r.lost / r.sent) * 100);
const pinning = (row: Row): string => (row.spec.cpu === null ? 'unpinned' : `CPU ${row.spec.cpu}`);

/** The 1-core podswarm-dns row that every ratio refers to: the first, the batch path's when it ran. */
function reference(rows: Row[]): Row | undefined {
  return rows.find((r) => r.spec.role === 'podswarm' && r.spec.cpu !== null && r.throughput);
}

/** Server CPU per answered query, in µs: the CPU share of the run divided by the answer rate. */
function cpuPerAnswer(row: Row): number | undefined {
  const t = row.throughput;
  return t && t.perf.qps > 0 ? ((t.cpuPercent / 100) * 1e6) / t.perf.qps : undefined;
}

const us = (n: number | undefined): string => (n === undefined ? '—' : `${n.toFixed(2)} µs`);

function ratio(ref: Row | undefined, row: Row): string {
  if (!ref?.throughput || !row.throughput || row.spec.role === 'podswarm' || row.spec.cpu === null) return '—';
  return `${(ref.throughput.perf.qps / row.throughput.perf.qps).toFixed(2)}×`;
}

function throughputTable(res: WorkloadResult): string[] {
  const ref = reference(res.rows);
  const out = [
    `| server | version | pinning | queries/s | avg latency | p99 at ${int(FIXED_RATE)} q/s | lost | server CPU | CPU per answer | RSS | podswarm-dns / this | notes |`,
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of res.rows) {
    const s = row.spec;
    const t = row.throughput;
    if (!t) {
      const why = s.unavailable ?? `failed: ${row.error ?? 'no result'}`;
      out.push(`| ${s.label} | ${s.version} | ${pinning(row)} | ${why} | | | | | | | | ${s.note} |`);
      continue;
    }
    const p99 = row.fixed.find((f) => f.rate === FIXED_RATE)?.p99;
    out.push(
      `| ${s.label} | ${s.version} | ${pinning(row)} | ${int(t.perf.qps)} | ${ms(t.perf.avgMs)} | ${ms(p99)} | ${pct(lostPct(t.perf))} | ${t.cpuPercent.toFixed(0)}% | ${us(cpuPerAnswer(row))} | ${t.rssMiB.toFixed(1)} MiB | ${ratio(ref, row)} | ${[s.note, ...row.mismatches, t.perf.rcodes].filter(Boolean).join('; ')} |`,
    );
  }
  return out;
}

function fixedTable(res: WorkloadResult): string[] {
  const out = ['| server | offered q/s | achieved q/s | p50 | p99 | p99.9 | lost | p99 of each run |', '|---|---:|---:|---:|---:|---:|---:|---|'];
  for (const row of res.rows) {
    for (const f of row.fixed) {
      out.push(
        `| ${row.spec.label} | ${int(f.rate)} | ${int(f.perf.qps)} | ${ms(f.p50)} | ${ms(f.p99)} | ${ms(f.p999)} | ${pct(lostPct(f.perf))} | ${f.p99Runs.map(ms).join(' / ')} |`,
      );
    }
  }
  return out;
}

function resperfTable(res: WorkloadResult): string[] {
  const rows = res.rows.filter((r) => r.resperf);
  if (rows.length === 0) return [];
  const out = ['## Maximum rate before loss (resperf)', '', '| server | max q/s | lost at that point | notes |', '|---|---:|---:|---|'];
  for (const r of rows) {
    const p = r.resperf!;
    const behind = p.fellBehindAt === undefined ? '' : `resperf could not send faster than ${int(p.fellBehindAt)} q/s and stopped`;
    out.push(`| ${r.spec.label} | ${int(p.maxQps)} | ${pct(p.lostAtMax)} | ${[r.spec.note, behind].filter(Boolean).join('; ')} |`);
  }
  return [...out, ''];
}

interface Target {
  what: string;
  measured: string;
  /** For a ratio to a peer: the Node limit row's own ratio to that peer, the most any Node server could show. */
  limit?: string;
  met: boolean | undefined;
}

function ratioTarget(ref: Row | undefined, rows: Row[], label: string, min: number, kind: string): Target {
  const peer = rows.find((r) => r.spec.label === label && r.throughput);
  const limit = rows.find((r) => r.spec.role === 'limit' && r.throughput);
  const what = `≥ ${min.toFixed(2)}× ${label} (${kind})`;
  if (!ref?.throughput || !peer?.throughput) return { what, measured: 'not measured', met: undefined };
  const x = ref.throughput.perf.qps / peer.throughput.perf.qps;
  const ceiling = limit?.throughput && limit !== peer ? `${(limit.throughput.perf.qps / peer.throughput.perf.qps).toFixed(2)}×` : undefined;
  return { what, measured: `${x.toFixed(2)}×`, limit: ceiling, met: x >= min };
}

function targets(res: WorkloadResult): Target[] {
  const ref = reference(res.rows);
  const out: Target[] = [];
  if (res.mode === 'cluster') {
    out.push(
      ratioTarget(ref, res.rows, 'aardvark-dns', 1.0, 'must'),
      ratioTarget(ref, res.rows, 'knot', 0.85, 'goal'),
      ratioTarget(ref, res.rows, 'Node limit', 0.9, 'goal'),
    );
    const lost = ref?.throughput?.perf.lost;
    out.push({ what: '0 queries lost', measured: lost === undefined ? 'not measured' : int(lost), met: lost === undefined ? undefined : lost === 0 });
    const p99 = ref?.fixed.find((f) => f.rate === FIXED_RATE)?.p99;
    out.push({ what: `p99 at ${int(FIXED_RATE)} q/s ≤ 0.25 ms`, measured: ms(p99), met: p99 === undefined ? undefined : p99 <= 0.25 });
  } else if (res.mode === 'forward-cached') {
    out.push(ratioTarget(ref, res.rows, 'dnsmasq', 1.0, 'target'));
  } else {
    out.push(ratioTarget(ref, res.rows, 'dnsmasq', 0.8, 'target'), ratioTarget(ref, res.rows, 'unbound', 0.8, 'target'));
  }
  if (res.mode === 'cluster') out.push(...knotTargets(ref, res.rows));
  // Unpinned rows: one process against -workers 2, on the batch path (a SO_REUSEPORT socket per worker) and on node:dgram (one shared handle).
  const unpinned = (udpIo: string, workers: number): Row | undefined =>
    res.rows.find(
      (r) => r.spec.role === 'podswarm' && r.spec.cpu === null && r.spec.variant?.udpIo === udpIo && r.spec.variant.workers === workers && r.throughput,
    );
  const single = unpinned('batch', 1);
  const workers = unpinned('batch', 2);
  if (single?.throughput && workers?.throughput) {
    const x = workers.throughput.perf.qps / single.throughput.perf.qps;
    out.push({ what: 'unpinned: workers ≥ 1.0× single process', measured: `${x.toFixed(2)}×`, met: x >= 1 });
  }
  const shared = unpinned('dgram', 2);
  if (workers?.throughput && shared?.throughput) {
    const x = workers.throughput.perf.qps / shared.throughput.perf.qps;
    out.push({ what: '-workers 2: a socket per worker (batch, SO_REUSEPORT) against the shared handle (dgram)', measured: `${x.toFixed(2)}×`, met: undefined });
  }
  return out;
}

/**
 * Issue 19, against knot on one core: CPU per answer no more than knot's;
 * q/s at least knot's, or within 2% of it with less CPU (dnsperf's core the
 * ceiling for both); resperf's maximum at least knot's; p99 at FIXED_RATE no
 * worse than knot's median-p99 run of the same rounds.
 */
function knotTargets(ref: Row | undefined, rows: Row[]): Target[] {
  const knot = rows.find((r) => r.spec.label === 'knot' && r.throughput);
  const none = (what: string): Target => ({ what, measured: 'not measured', met: undefined });
  const cpuWhat = "CPU per answer ≤ knot's (issue 19)";
  const qpsWhat = "q/s ≥ knot's, or within 2% with less CPU (issue 19)";
  const resperfWhat = "resperf max ≥ knot's (issue 19)";
  const p99What = `p99 at ${int(FIXED_RATE)} q/s ≤ knot's (issue 19)`;
  if (!ref?.throughput || !knot?.throughput) return [none(cpuWhat), none(qpsWhat), none(resperfWhat), none(p99What)];
  const [a, b] = [cpuPerAnswer(ref)!, cpuPerAnswer(knot)!];
  const q = ref.throughput.perf.qps / knot.throughput.perf.qps;
  const lessCpu = ref.throughput.cpuPercent < knot.throughput.cpuPercent;
  const out: Target[] = [
    { what: cpuWhat, measured: `${us(a)} against ${us(b)}`, met: a <= b },
    {
      what: qpsWhat,
      measured: `${q.toFixed(2)}×, CPU ${ref.throughput.cpuPercent.toFixed(0)}% against ${knot.throughput.cpuPercent.toFixed(0)}%`,
      met: q >= 1 || (q >= 0.98 && lessCpu),
    },
  ];
  const [ra, rb] = [ref.resperf?.maxQps, knot.resperf?.maxQps];
  out.push(ra === undefined || rb === undefined ? none(resperfWhat) : { what: resperfWhat, measured: `${int(ra)} against ${int(rb)}`, met: ra >= rb });
  const [pa, pb] = [ref.fixed.find((f) => f.rate === FIXED_RATE)?.p99, knot.fixed.find((f) => f.rate === FIXED_RATE)?.p99];
  out.push(pa === undefined || pb === undefined ? none(p99What) : { what: p99What, measured: `${ms(pa)} against ${ms(pb)}`, met: pa <= pb });
  return out;
}

const mark = (met: boolean | undefined): string => (met === undefined ? '?' : met ? 'met' : 'NOT met');

export interface ReportInput {
  result: WorkloadResult;
  machine: Machine;
  dnsperfVersion: string;
  timing: Timing;
  /** Processes started for the workload besides the servers (the upstream), with their configs. */
  extraCommands: string[];
  extraConfigs: string[];
}

const EXCERPT_LINES = 16;

/** A config file's first lines; the rest is the same data in the same form. */
function excerpt(path: string): string[] {
  let lines: string[];
  try {
    lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  } catch {
    return [];
  }
  const more = lines.length - EXCERPT_LINES;
  return [`\`${basename(path)}\`:`, '', '```', ...lines.slice(0, EXCERPT_LINES), ...(more > 0 ? [`… ${more} more lines of the same kind`] : []), '```', ''];
}

/** The tables alone, as printed to the terminal. */
export function tables(res: WorkloadResult): string {
  const out = [
    `## ${res.mode}: throughput (dnsperf, full load)`,
    '',
    ...throughputTable(res),
    '',
    `## Latency at fixed load (dnsperf -Q, per-query latencies)`,
    '',
    ...fixedTable(res),
    '',
    ...resperfTable(res),
    '## Targets (issues 4 and 19), this run',
    '',
    '| target | measured | Node limit row against the same peer | |',
    '|---|---:|---:|---|',
    ...targets(res).map((t) => `| ${t.what} | ${t.measured} | ${t.limit ?? ''} | ${mark(t.met)} |`),
  ];
  return out.join('\n') + '\n';
}

export function report(r: ReportInput): string {
  const { result: res, machine: m, timing: t } = r;
  const commands: string[] = [...r.extraCommands];
  for (const row of res.rows) if (row.command) commands.push(`# ${row.spec.label}`, row.command);
  const perf: string[] = [];
  for (const row of res.rows) {
    if (row.throughput) perf.push(row.throughput.perf.command);
    for (const f of row.fixed) perf.push(f.perf.command);
    if (row.resperf) perf.push(row.resperf.command);
  }
  const configs = [...new Set([...r.extraConfigs, ...res.rows.flatMap((row) => row.configs)])];
  return [
    `# podswarm-dns benchmark: ${res.mode} (${m.date.slice(0, 10)})`,
    '',
    DESCRIPTIONS[res.mode],
    '',
    `- Machine: ${m.nproc} CPUs, ${m.cpuModel}, Linux ${m.kernel}, Node ${m.node}; load average at start: ${m.loadAvg}; started ${m.date}.`,
    `- Pinning: 1-core rows run the server on CPU 0 (\`taskset -c 0\`) and dnsperf/resperf on CPU 1 (\`taskset -c 1\`); "unpinned" rows pin neither. The forward workloads' upstream knot runs on CPU 1.`,
    `- Load: dnsperf ${r.dnsperfVersion}, \`-c 20 -q 100 -T 1\`, ${t.warmSeconds} s warm-up then ${t.seconds} s per server; fixed load ${t.fixedSeconds} s per run at ${res.rates.map(int).join(' and ')} q/s (also half the slowest pinned peer's rate, unless that is within 25% of ${int(FIXED_RATE)}), in ${res.rounds} rounds that each visit every pinned server in turn, with the median-p99 run shown; p50/p99 from dnsperf \`-v\` per-query latencies. CPU is utime+stime of the server's process tree over the run (100% = one core); RSS is VmRSS after it.`,
    '- "podswarm-dns / this" divides the pinned podswarm-dns rate (the first row: the batch path when the addon is built) by the row\'s rate (above 1.00× podswarm-dns is faster). "CPU per answer" is server CPU divided by answers per second.',
    '',
    tables(res),
    '## Commands',
    '',
    '```sh',
    ...commands,
    '# load, server by server',
    ...perf,
    '```',
    '',
    '## Configuration (excerpts; the scratch directory is removed after the run)',
    '',
    ...configs.flatMap(excerpt),
  ].join('\n');
}
