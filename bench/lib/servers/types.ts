// What the harness needs to know about each server row, and the common way
// to start one: config written, process started (pinned or not), first
// answer awaited.

import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceData } from '../data.js';
import { ask, waitReady } from '../probe.js';
import { commandLine, pinned, startProcess, stopChild } from '../procs.js';

export type Mode = 'cluster' | 'forward-cached' | 'forward-miss';

export interface Env {
  /** Scratch directory for configs, data and logs. */
  dir: string;
  data: ServiceData[];
  mode: Mode;
  /** Loopback port of the upstream knot (forward workloads). */
  upstreamPort: number;
}

export interface Running {
  /** Root of the server's process tree, for CPU and RSS. */
  pid: number;
  command: string;
  /** Config files, excerpted in the result file. */
  configs: string[];
  stop(): Promise<void>;
}

export type Role = 'podswarm' | 'peer' | 'limit';

export interface ServerSpec {
  label: string;
  version: string;
  role: Role;
  port: number;
  /** CPU list for taskset, null when unpinned. */
  cpu: string | null;
  /** What differs from the exact workload, for the table. */
  note: string;
  /** Why this server cannot run the workload (a plugin not compiled in). */
  unavailable?: string;
  /** podswarm-dns rows: how the server was started, for picking rows out in the targets. */
  variant?: { udpIo: 'batch' | 'dgram'; workers: number; metrics: boolean };
  launch(env: Env): Promise<Running>;
}

/** Starts a foreground server and waits until it answers `probeName`. */
export async function launchForeground(
  spec: ServerSpec,
  env: Env,
  cmd: string,
  args: string[],
  probeName: string,
  configs: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<Running> {
  await assertFree(spec);
  const log = join(env.dir, `${spec.label.replace(/[^\w.-]+/g, '_')}.log`);
  const [c, a] = pinned(spec.cpu, cmd, args);
  const child = startProcess(c, a, log, { ...process.env, ...extraEnv });
  let failed = false;
  child.on('error', () => (failed = true));
  const running = (): boolean => !failed && child.exitCode === null && child.signalCode === null;
  await ready(spec, log, probeName, running, () => stopChild(child));
  return { pid: pidOf(child), command: envPrefix(extraEnv) + commandLine(c, a), configs, stop: () => stopChild(child) };
}

/** A leftover server on the port would be measured instead of ours. */
export async function assertFree(spec: ServerSpec): Promise<void> {
  if (await ask(spec.port, 'probe.invalid', 1)) throw new Error(`${spec.label}: something already answers on 127.0.0.1:${spec.port}`);
}

export async function ready(spec: ServerSpec, log: string, probeName: string, running: () => boolean, stop: () => Promise<void>): Promise<void> {
  try {
    await waitReady(spec.port, probeName, 60, running);
  } catch (e) {
    await stop();
    let tail = '';
    try {
      tail = readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n');
    } catch {
      // no log written
    }
    throw new Error(`${spec.label}: ${(e as Error).message}${tail ? `\n${tail}` : ''}`);
  }
}

function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error('process did not start');
  return child.pid;
}

export function envPrefix(env: NodeJS.ProcessEnv): string {
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v} `)
    .join('');
}
