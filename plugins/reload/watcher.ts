// Polls the SHA512 of the config files and asks the process to reload when it
// changes. The hash is taken over file names and contents, in name order.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { Directive, ServerBlock } from '../../src/corefile/types.js';
import type { Logger } from '../../src/log.js';

/** The Corefile plus every file the block's tokens came from (its imports). */
export function configFiles(corefile: string, block: ServerBlock): string[] {
  const files = new Set<string>([corefile]);
  const walk = (ds: readonly Directive[]): void => {
    for (const d of ds) {
      files.add(d.name.file);
      if (d.block) walk(d.block);
    }
  };
  for (const k of block.keys) files.add(k.token.file);
  walk(block.directives);
  return [...files].sort();
}

function digest(contents: ReadonlyArray<[string, Buffer | null]>): string {
  const h = createHash('sha512');
  for (const [name, data] of contents) {
    h.update(name).update('\0');
    // A missing file hashes as such, so its return counts as a change.
    if (data) h.update(data);
    h.update('\0');
  }
  return h.digest('hex');
}

export class Watcher {
  private hash: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly files: readonly string[],
    private readonly periodMs: number,
    private readonly log: Logger,
    /** Applies the Corefile again; rejects when it is refused. */
    private readonly reload: () => Promise<void>,
  ) {
    this.hash = digest(files.map((f) => [f, readOrNull(f)]));
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    const contents = await Promise.all(this.files.map(async (f): Promise<[string, Buffer | null]> => [f, await readFile(f).catch(() => null)]));
    const hash = digest(contents);
    if (hash === this.hash) return;
    // Remembered even if the reload is refused: a bad file is tried once, not every interval.
    this.hash = hash;
    this.log.info('Corefile changed, reloading');
    // A refused reload is logged (FILE:LINE) and counted by the lifecycle.
    await this.reload().catch(() => {});
  }
}

function readOrNull(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch {
    return null;
  }
}
