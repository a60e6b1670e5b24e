// A benchmark session: scratch directory, the results directory, and the
// guarantee that everything started is stopped on any way out.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stopAll, stopOnSignals } from './procs.js';

const RESULTS = resolve(import.meta.dirname, '../results');

/** YYYY-MM-DD in local time. */
function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Writes bench/results/<date>-<name>[-quick].md and returns its path. */
export function writeResult(name: string, quick: boolean, text: string): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${today()}-${name}${quick ? '-quick' : ''}.md`);
  writeFileSync(file, text);
  return file;
}

export async function session(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'podswarm-bench-'));
  // dnsmasq and unbound may read their files as another user.
  chmodSync(dir, 0o755);
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  stopOnSignals(cleanup);
  try {
    await work(dir);
  } finally {
    await stopAll();
    cleanup();
  }
}
