// One state file of a node: read once at start, replaced atomically with
// group-committed writes after. A file that cannot be read back is never
// silently dropped or overwritten: it is renamed aside for the operator.

import { readFileSync, renameSync } from 'node:fs';
import { writeFileAtomic } from './atomic-file.js';
import { GroupCommit } from './group-commit.js';

export type Loaded<T> =
  | { kind: 'missing' }
  | { kind: 'ok'; value: T }
  /** `reason`: why it was refused; `keptAs`: where the file is now. */
  | { kind: 'corrupt'; reason: string; keptAs: string };

/**
 * Reads `path` with `decode` (which throws with a reason). A corrupt file is
 * renamed to `<path>.corrupt-<time>`. Errors other than a missing file (no
 * permission, not a directory) are thrown: they are the operator's to fix.
 */
export function loadStateFile<T>(path: string, decode: (text: string) => T, now = new Date()): Loaded<T> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw e;
  }
  try {
    return { kind: 'ok', value: decode(text) };
  } catch (e) {
    const keptAs = `${path}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
    renameSync(path, keptAs);
    return { kind: 'corrupt', reason: (e as Error).message, keptAs };
  }
}

export class StateFile {
  private readonly commits: GroupCommit;

  /** `encode` is called at the start of every write, so it stores the state of that moment. */
  constructor(
    readonly path: string,
    encode: () => string,
  ) {
    this.commits = new GroupCommit(() => writeFileAtomic(path, encode()));
  }

  /** Resolves once the state as of now is on disk. */
  save(): Promise<void> {
    return this.commits.commit();
  }

  idle(): Promise<void> {
    return this.commits.idle();
  }
}
