// The machine and the tools: what a result file records next to the numbers,
// and the install step when a tool is missing.

import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { resolve } from 'node:path';
import { AARDVARK } from './servers/aardvark.js';
import { run } from './procs.js';

const TOOLS = ['dnsperf', 'resperf', 'knotd', 'unbound', 'dnsmasq', 'taskset'];

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(`${d}/${tool}`));
}

/** Runs bench/install.sh when any tool is missing. */
export async function ensureTools(): Promise<void> {
  const missing = TOOLS.filter((t) => !onPath(t));
  if (!existsSync(AARDVARK)) missing.push(AARDVARK);
  if (missing.length === 0) return;
  process.stderr.write(`missing ${missing.join(', ')}: running bench/install.sh\n`);
  await run('bash', [resolve(import.meta.dirname, '../install.sh')]);
}

async function versionOf(cmd: string, args: string[], re: RegExp): Promise<string> {
  try {
    return re.exec(await run(cmd, args, { allowFail: true }))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

export interface Versions {
  knot: string;
  unbound: string;
  dnsmasq: string;
  aardvark: string;
  dnsperf: string;
}

export async function versions(): Promise<Versions> {
  const [knot, unbound, dnsmasq, aardvark, dnsperf] = await Promise.all([
    versionOf('knotd', ['--version'], /version (\S+)/),
    versionOf('unbound', ['-V'], /Version (\S+)/),
    versionOf('dnsmasq', ['--version'], /version (\S+)/),
    versionOf(AARDVARK, ['--version'], /aardvark-dns (\S+)/),
    versionOf('dnsperf', ['-h'], /Version (\S+)/),
  ]);
  return { knot, unbound, dnsmasq, aardvark, dnsperf };
}

export interface Machine {
  date: string;
  nproc: number;
  cpuModel: string;
  loadAvg: string;
  kernel: string;
  node: string;
}

export function machine(): Machine {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpuModel: model.trim(),
    loadAvg: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    kernel: release(),
    node: process.version,
  };
}
