// dnsperf and resperf runs, and what their output says.

import { dirname, join } from 'node:path';
import { commandLine, pinned, run } from './procs.js';

/** The load generator's core when the server is pinned to CPU 0. */
export const CLIENT_CPU = '1';

export interface PerfOptions {
  port: number;
  file: string;
  seconds: number;
  /** null: unpinned. */
  cpu: string | null;
  /** -Q: fixed offered load. */
  qps?: number;
  /** -n 1: one pass over the file (cache warm-up). */
  onePass?: boolean;
  /** -v: per-query latencies. */
  verbose?: boolean;
}

export interface PerfResult {
  command: string;
  sent: number;
  completed: number;
  lost: number;
  qps: number;
  avgMs: number;
  /** Per-query latencies in ms (only with `verbose`). */
  latencies: number[];
  rcodes: string;
}

function num(text: string, re: RegExp): number {
  const m = re.exec(text);
  if (!m) throw new Error(`dnsperf output lacks ${re.source}:\n${text.slice(-800)}`);
  return Number(m[1]);
}

function dnsperfArgs(o: PerfOptions): string[] {
  const args = ['-s', '127.0.0.1', '-p', String(o.port), '-d', o.file, '-c', '20', '-q', '100', '-T', '1'];
  args.push(...(o.onePass ? ['-n', '1'] : ['-l', String(o.seconds)]));
  if (o.qps !== undefined) args.push('-Q', String(o.qps));
  if (o.verbose) args.push('-v');
  return args;
}

export async function dnsperf(o: PerfOptions): Promise<PerfResult> {
  const [cmd, args] = pinned(o.cpu, 'dnsperf', dnsperfArgs(o));
  // Beside the query file, in the scratch directory; runs are one at a time.
  const out = await run(cmd, args, { outFile: join(dirname(o.file), 'dnsperf.out') });
  const latencies: number[] = [];
  if (o.verbose) {
    for (const line of out.split('\n')) {
      // "> NOERROR name TYPE 0.000123"
      if (line.startsWith('> ')) latencies.push(Number(line.slice(line.lastIndexOf(' ') + 1)) * 1000);
    }
  }
  return {
    command: commandLine(cmd, args),
    sent: num(out, /Queries sent:\s+(\d+)/),
    completed: num(out, /Queries completed:\s+(\d+)/),
    lost: num(out, /Queries lost:\s+(\d+)/),
    qps: num(out, /Queries per second:\s+([\d.]+)/),
    avgMs: num(out, /Average Latency \(s\):\s+([\d.]+)/) * 1000,
    latencies,
    rcodes: /Response codes:\s+(.*)/.exec(out)?.[1]?.trim() ?? '',
  };
}

/** Value at fraction q of the sorted sample (nearest rank). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export interface ResperfResult {
  command: string;
  maxQps: number;
  lostAtMax: number;
  /** Set when resperf stopped because it could not send fast enough itself. */
  fellBehindAt?: number;
}

export async function resperf(port: number, file: string, rampSeconds: number, plotFile: string): Promise<ResperfResult> {
  const [cmd, args] = pinned(CLIENT_CPU, 'resperf', [
    '-s',
    '127.0.0.1',
    '-p',
    String(port),
    '-d',
    file,
    '-R',
    '-m',
    '300000',
    '-r',
    String(rampSeconds),
    '-t',
    '2',
    '-P',
    plotFile,
  ]);
  const out = await run(cmd, args);
  return {
    command: commandLine(cmd, args),
    maxQps: num(out, /Maximum throughput:\s+([\d.]+)/),
    lostAtMax: num(out, /Lost at that point:\s+([\d.]+)%/),
    fellBehindAt: /Fell behind by \d+ queries, ending test at (\d+) qps/.test(out) ? num(out, /ending test at (\d+) qps/) : undefined,
  };
}
