// CPU time and resident memory of a server, from /proc. A server that runs
// workers counts its whole process tree.

import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux the kernel ABI allows for /proc/PID/stat. */
const TICKS_PER_SECOND = 100;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Fields after the `(comm)`, which may itself contain spaces. */
function statFields(pid: number): string[] | undefined {
  const s = read(`/proc/${pid}/stat`);
  return s === undefined ? undefined : s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** `pid` and all its descendants alive now. */
function processTree(pid: number): number[] {
  const parent = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (!f) continue;
    const ppid = Number(f[1]);
    const list = parent.get(ppid) ?? [];
    list.push(Number(entry));
    parent.set(ppid, list);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0 && out.length < 1000) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(parent.get(p) ?? []));
  }
  return out;
}

/** utime + stime of the tree, in seconds. */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const f = statFields(p);
    // Fields 14 and 15 of stat; index 11 and 12 once pid and comm are cut off.
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

/** VmRSS of the tree, in MiB. */
export function rssMiB(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    const m = /VmRSS:\s+(\d+) kB/.exec(read(`/proc/${p}/status`) ?? '');
    if (m) kb += Number(m[1]);
  }
  return kb / 1024;
}

/** Measures the tree's CPU use over `work`, as % of one core. */
export async function withCpu<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; cpuPercent: number }> {
  const c0 = cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  const result = await work();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return { result, cpuPercent: ((cpuSeconds(pid) - c0) / wall) * 100 };
}
