// Every process the harness starts is registered here, so that a normal end,
// an error and Ctrl-C all stop the same set.

import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const children = new Set<ChildProcess>();
/** Set on Ctrl-C: from then on nothing new starts while the rest is stopped. */
let stopping = false;

function refuseWhileStopping(): void {
  if (stopping) throw new Error('the benchmark is stopping');
}
/** Daemons that fork away from the child we spawned (aardvark-dns): stopped by pid. */
const daemons = new Set<number>();

/** `taskset -c CPU cmd...` when pinned (taskset execs, so the pid is the server's). */
export function pinned(cpu: string | null, cmd: string, args: string[]): [string, string[]] {
  return cpu === null ? [cmd, args] : ['taskset', ['-c', cpu, cmd, ...args]];
}

export function commandLine(cmd: string, args: string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Starts a long-running process with stdout and stderr going to `logFile`. */
export function startProcess(cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  refuseWhileStopping();
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env });
    children.add(child);
    child.on('exit', () => children.delete(child));
    child.on('error', () => children.delete(child));
    return child;
  } finally {
    closeSync(fd);
  }
}

export function trackDaemon(pid: number): void {
  daemons.add(pid);
}

export function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after 3 s. */
export async function stopPid(pid: number): Promise<void> {
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(pid, s);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < 30 && alive(pid); i++) await sleep(100);
  if (alive(pid)) signal('SIGKILL');
  daemons.delete(pid);
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map(stopChild).concat([...daemons].map(stopPid)));
}

/**
 * Runs a command to completion and returns its stdout and stderr. With
 * `outFile`, stdout goes to that file first: a pipe that fills up could
 * stall a load generator in the middle of its measurement.
 */
export function run(cmd: string, args: string[], opts: { allowFail?: boolean; outFile?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    refuseWhileStopping();
    const fd = opts.outFile === undefined ? undefined : openSync(opts.outFile, 'w');
    const child = spawn(cmd, args, { stdio: ['ignore', fd ?? 'pipe', 'pipe'] });
    if (fd !== undefined) closeSync(fd);
    children.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      children.delete(child);
      reject(e);
    });
    child.on('close', (code) => {
      children.delete(child);
      const text = opts.outFile === undefined ? Buffer.concat(out).toString() : readFileSync(opts.outFile, 'utf8');
      if (code === 0 || opts.allowFail) resolve(text + Buffer.concat(err).toString());
      else reject(new Error(`${commandLine(cmd, args)} exited ${code}: ${Buffer.concat(err).toString().trim().slice(-500)}`));
    });
  });
}

/** Ctrl-C and SIGTERM stop everything first, then exit. */
export function stopOnSignals(onStop: () => void): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      stopping = true;
      process.stderr.write(`\n${sig}: stopping every server started by the benchmark\n`);
      void stopAll().finally(() => {
        onStop();
        process.exit(130);
      });
    });
  }
}
