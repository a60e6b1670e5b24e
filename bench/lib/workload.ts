// One workload against every server in turn: start all, warm up and measure
// throughput, then latency at fixed load in rounds, then resperf; stop all.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkAnswers } from './check.js';
import { cachedQueries, clusterQueries, missQueries, type ServiceData } from './data.js';
import { CLIENT_CPU, dnsperf, percentile, resperf, type PerfResult, type ResperfResult } from './dnsperf.js';
import type { Env, Mode, Running, ServerSpec } from './servers/types.js';
import { rssMiB, withCpu } from './stats.js';

export const FIXED_RATE = 20000;

export interface Timing {
  seconds: number;
  warmSeconds: number;
  fixedSeconds: number;
  rampSeconds: number;
}

export interface Throughput {
  perf: PerfResult;
  cpuPercent: number;
  rssMiB: number;
}

export interface FixedLoad {
  rate: number;
  perf: PerfResult;
  p50: number;
  p99: number;
  p999: number;
  /** p99 of every repeat, in run order; the row shows the run with the median p99. */
  p99Runs: number[];
}

/**
 * Fixed-load runs are repeated in rounds, each round visiting every server in
 * turn: on this VM one run's p99 swings several-fold (other tenants, vCPU
 * wake-ups), and a noisy moment then falls on one round of every server
 * rather than on all runs of one. The row shows the run with the median p99.
 */
const FIXED_ROUNDS: Record<Mode, number> = { cluster: 5, 'forward-cached': 3, 'forward-miss': 3 };

/** A second fixed rate within this fraction of FIXED_RATE says nothing new and is left out. */
const SAME_RATE = 0.25;

export interface Row {
  spec: ServerSpec;
  command?: string;
  configs: string[];
  /** Where its answers differ from what the workload expects. */
  mismatches: string[];
  error?: string;
  throughput?: Throughput;
  fixed: FixedLoad[];
  resperf?: ResperfResult;
}

export interface WorkloadResult {
  mode: Mode;
  rows: Row[];
  /** Offered loads of the fixed-load runs. */
  rates: number[];
  /** Fixed-load rounds per rate. */
  rounds: number;
}

/** Query files, one per phase: in forward-miss every phase must ask names nobody has seen. */
interface Files {
  warm: string;
  main: string;
  fixed: (rate: number, round: number) => string;
}

function writeFiles(dir: string, mode: Mode, data: ServiceData[], t: Timing): Files {
  const path = (name: string): string => join(dir, `${mode}-${name}.txt`);
  const write = (name: string, text: string): string => (writeFileSync(path(name), text), path(name));
  if (mode !== 'forward-miss') {
    const f = write('queries', mode === 'cluster' ? clusterQueries(data) : cachedQueries());
    return { warm: f, main: f, fixed: () => f };
  }
  // More unique names than any server here answers in the time given.
  const perSecond = 150000;
  const warm = write('warm', missQueries('w', t.warmSeconds * perSecond));
  const main = write('main', missQueries('t', t.seconds * perSecond));
  // Every fixed-load run asks names no earlier run asked; written when first needed.
  const fixed = new Map<string, string>();
  return {
    warm,
    main,
    fixed: (rate, round) => {
      const key = `f${rate}-${round}-`;
      if (!fixed.has(key)) fixed.set(key, write(`fixed-${rate}-${round}`, missQueries(key, Math.ceil(t.fixedSeconds * rate * 1.2))));
      return fixed.get(key)!;
    },
  };
}

/** A failed measurement is recorded on its row; the other servers still run. */
async function attempt(row: Row, log: (line: string) => void, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (e) {
    row.error ??= (e as Error).message.split('\n')[0];
    log(`  ${row.spec.label}: ${(e as Error).message}`);
  }
}

const client = (spec: ServerSpec): string | null => (spec.cpu === null ? null : CLIENT_CPU);

/** FIXED_RATE, and half the slowest pinned peer's rate (to the nearest 1000 q/s) unless that is close to it. */
function fixedRates(slowest: number | undefined): number[] {
  const half = slowest === undefined ? undefined : Math.round(slowest / 2000) * 1000;
  return half === undefined || Math.abs(half - FIXED_RATE) <= SAME_RATE * FIXED_RATE ? [FIXED_RATE] : [FIXED_RATE, half];
}

/** Lowest max rate among the pinned peers. */
function slowestPeer(rows: Row[]): number | undefined {
  const qps = rows.filter((r) => r.spec.role === 'peer' && r.spec.cpu !== null && r.throughput).map((r) => r.throughput!.perf.qps);
  return qps.length > 0 ? Math.min(...qps) : undefined;
}

export async function runWorkload(
  env: Env,
  specs: ServerSpec[],
  t: Timing,
  opts: { resperfFor: (s: ServerSpec) => boolean; log: (line: string) => void },
): Promise<WorkloadResult> {
  const files = writeFiles(env.dir, env.mode, env.data, t);
  const rows: Row[] = specs.map((spec) => ({ spec, fixed: [], configs: [], mismatches: [] }));
  const running = new Map<Row, Running>();
  try {
    // All at once: they idle while another is measured.
    await Promise.all(
      rows
        .filter((row) => !row.spec.unavailable)
        .map((row) =>
          attempt(row, opts.log, async () => {
            const r = await row.spec.launch(env);
            running.set(row, r);
            row.command = r.command;
            row.configs = r.configs;
            if (row.spec.role !== 'limit') row.mismatches = await checkAnswers(row.spec, env);
          }),
        ),
    );
    const live = rows.filter((row) => running.has(row));
    for (const row of live) {
      const r = running.get(row)!;
      opts.log(`  ${row.spec.label}: ${t.seconds} s at full load`);
      const cpu = client(row.spec);
      await attempt(row, opts.log, async () => {
        await dnsperf({ port: row.spec.port, file: files.warm, seconds: t.warmSeconds, cpu });
        const { result: perf, cpuPercent } = await withCpu(r.pid, () => dnsperf({ port: row.spec.port, file: files.main, seconds: t.seconds, cpu }));
        row.throughput = { perf, cpuPercent, rssMiB: rssMiB(r.pid) };
      });
    }
    const rates = fixedRates(slowestPeer(rows));
    const pinnedRows = live.filter((row) => row.spec.cpu !== null);
    for (const rate of rates) {
      const runs = new Map<Row, Omit<FixedLoad, 'p99Runs'>[]>(pinnedRows.map((row) => [row, []]));
      for (let round = 0; round < FIXED_ROUNDS[env.mode]; round++) {
        opts.log(`  ${t.fixedSeconds} s at ${rate} q/s, round ${round + 1} of ${FIXED_ROUNDS[env.mode]}`);
        for (const row of pinnedRows) {
          await attempt(row, opts.log, async () => {
            const perf = await dnsperf({
              port: row.spec.port,
              file: files.fixed(rate, round),
              seconds: t.fixedSeconds,
              cpu: CLIENT_CPU,
              qps: rate,
              verbose: true,
            });
            const sorted = perf.latencies.sort((a, b) => a - b);
            runs.get(row)!.push({ rate, perf, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999) });
            perf.latencies = [];
          });
        }
      }
      for (const [row, list] of runs) {
        if (list.length === 0) continue;
        const median = [...list].sort((a, b) => a.p99 - b.p99)[Math.floor(list.length / 2)]!;
        row.fixed.push({ ...median, p99Runs: list.map((r) => r.p99) });
      }
    }
    for (const row of live) {
      if (!opts.resperfFor(row.spec)) continue;
      opts.log(`  ${row.spec.label}: resperf, ${t.rampSeconds} s ramp`);
      await attempt(row, opts.log, async () => {
        row.resperf = await resperf(row.spec.port, files.main, t.rampSeconds, join(env.dir, `resperf-${row.spec.port}.gnuplot`));
      });
    }
    return { mode: env.mode, rows, rates, rounds: FIXED_ROUNDS[env.mode] };
  } finally {
    await Promise.all([...running.values()].map((r) => r.stop()));
  }
}
