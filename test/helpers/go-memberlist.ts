// A real Go memberlist node (go-memberlist/main.go, built against Debian's
// golang-github-hashicorp-memberlist-dev in GOPATH mode): built on first use,
// cached by the hash of its source under the temp directory, started and
// stopped by the tests. A missing Go toolchain or package fails loudly.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOURCE_DIR = fileURLToPath(new URL('./go-memberlist/', import.meta.url));
/** Where Debian installs Go library sources (GOPATH mode). */
const DEBIAN_GOPATH = '/usr/share/gocode';

let built: Promise<string> | undefined;

/** The program's path, building it when this version of the source has not been built yet. */
export function goMemberlistBinary(): Promise<string> {
  built ??= build();
  return built;
}

async function build(): Promise<string> {
  const source = readFileSync(join(SOURCE_DIR, 'main.go'));
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'podswarm-go-memberlist', hash);
  const bin = join(dir, 'go-memberlist');
  if (existsSync(bin)) return bin;
  if (!existsSync(join(DEBIAN_GOPATH, 'src/github.com/hashicorp/memberlist'))) {
    throw new Error(`${DEBIAN_GOPATH}/src/github.com/hashicorp/memberlist is missing: run scripts/install-deps.sh (golang-github-hashicorp-memberlist-dev)`);
  }
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}`;
  try {
    await run('go', ['build', '-o', tmp, '.'], {
      cwd: SOURCE_DIR,
      env: { ...process.env, GOPATH: DEBIAN_GOPATH, GO111MODULE: 'off', GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
    });
  } catch (err) {
    const e = err as Error & { stderr?: string; code?: string };
    if (e.code === 'ENOENT') throw new Error('cannot run go: install golang-go (scripts/install-deps.sh)');
    throw new Error(`building go-memberlist failed: ${e.message}\n${e.stderr ?? ''}`);
  }
  // test files build in parallel: the rename makes one of them win whole
  renameSync(tmp, bin);
  return bin;
}

export interface GoNode {
  proc: ChildProcess;
  output(): string;
  /** Resolves when stdout or stderr matches `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM: a graceful leave, then exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface GoNodeOptions {
  name: string;
  bind: string;
  join?: string[];
  key?: string;
  stateBytes?: number;
  /** memberlist's EnableCompression (default true). */
  compress?: boolean;
}

const running = new Set<GoNode>();

export async function startGoMemberlist(o: GoNodeOptions): Promise<GoNode> {
  const bin = await goMemberlistBinary();
  const args = ['-name', o.name, '-bind', o.bind];
  if (o.join?.length) args.push('-join', o.join.join(','));
  if (o.key) args.push('-key', o.key);
  if (o.stateBytes) args.push('-state-bytes', String(o.stateBytes));
  if (o.compress === false) args.push('-compress=false');
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const node: GoNode = {
    proc,
    output: () => out,
    waitFor: (re, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (re.test(out)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`go-memberlist ${o.name}: timed out waiting for ${re}:\n${out}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    stop: async (signal = 'SIGTERM') => {
      running.delete(node);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await exited;
    },
  };
  running.add(node);
  proc.once('error', (err) => (out += `\ncannot run ${bin}: ${err.message}`));
  await node.waitFor(/^ready$/m);
  return node;
}

/** Kills every Go node still running (for `after`/`afterEach`). */
export async function stopAllGoMemberlist(): Promise<void> {
  for (const n of [...running]) await n.stop('SIGKILL');
}
