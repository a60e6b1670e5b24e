// Starts the real podswarm-dns process (compiled dist/) for end-to-end tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtCli } from './dist.js';
import { settleWhen } from './waiters.js';

export interface ServerOptions {
  /** Corefile text; `{{dir}}` is replaced by the temp directory holding `files`. */
  corefile: string;
  /** Extra files written beside the Corefile (e.g. a registry YAML). */
  files?: Record<string, string>;
  args?: string[];
  env?: Record<string, string>;
  /** Runs the server under this command, e.g. `['ip', 'netns', 'exec', NS]`. */
  prefix?: string[];
  /** Wait for this stdout line before resolving (default: the version banner). */
  ready?: RegExp;
}

export interface RunningServer {
  proc: ChildProcess;
  dir: string;
  corefilePath: string;
  /** Everything printed so far (stdout + stderr). */
  output(): string;
  /** Resolves when the output matches `re` (bounded by `timeoutMs`). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'podswarm-test-'));
  for (const [name, content] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), content);
  const corefilePath = join(dir, 'Corefile');
  writeFileSync(corefilePath, opts.corefile.replaceAll('{{dir}}', dir));
  return startCli(['-conf', corefilePath, ...(opts.args ?? [])], opts, dir, corefilePath);
}

/** Starts the CLI with exactly `args` (e.g. the repository's own Corefile.example) and waits until it serves. */
export async function startCli(
  args: string[],
  opts: Pick<ServerOptions, 'env' | 'prefix' | 'ready'> = {},
  dir = '',
  corefilePath = '',
): Promise<RunningServer> {
  const argv = [...(opts.prefix ?? []), process.execPath, builtCli(), ...args];
  const proc = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, UPSTREAM_DNS: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = wrap(proc, dir, corefilePath);
  await server.waitFor(opts.ready ?? /podswarm-dns-\d/);
  return server;
}

/** Runs the CLI to completion (for error cases): exit code and output. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, [builtCli(), ...args], { env: { ...process.env, UPSTREAM_DNS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const s = wrap(proc, '', '');
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, output: s.output() })));
}

function wrap(proc: ChildProcess, dir: string, corefilePath: string): RunningServer {
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  let exited = false;
  const exit = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      exited = true;
      for (const w of waiters) w();
      resolve(code);
    }),
  );
  return {
    proc,
    dir,
    corefilePath,
    output: () => out,
    waitFor(re, timeoutMs = 10_000) {
      return settleWhen<string>(
        waiters,
        () => {
          const m = re.exec(out);
          if (m) return { value: m[0] };
          return exited ? { error: new Error(`server exited before printing ${re}; output:\n${out}`) } : undefined;
        },
        timeoutMs,
        () => `timed out waiting for ${re}; output:\n${out}`,
      );
    },
    async stop(signal = 'SIGTERM') {
      if (!exited) proc.kill(signal);
      return exit;
    },
  };
}
