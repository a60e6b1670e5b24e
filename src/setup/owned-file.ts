// Files `setup` writes carry a header that says so, the hash of what was
// written and the directories setup had to create for them. That is all undo
// needs: it removes a file only if it is still ours and unchanged (a user's
// edit is kept, and said so), then the directories it created, if empty.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { VERSION } from '../version.js';

const MARK = '# podswarm-dns-setup';

export type OwnedFile =
  { state: 'absent' } | { state: 'foreign'; text: string } | { state: 'ours'; text: string; body: string; createdDirs: string[]; edited: boolean };

export function renderOwned(body: string, createdDirs: readonly string[], undoHint: string): string {
  const created = createdDirs.length > 0 ? ` created=${createdDirs.join(',')}` : '';
  return `# Written by \`podswarm-dns setup\` (podswarm-dns ${VERSION}); ${undoHint}.\n${MARK} sha256=${sha256(body)}${created}\n${body}`;
}

export function readOwned(path: string): OwnedFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  const lines = text.split('\n');
  const m = /^# podswarm-dns-setup sha256=([0-9a-f]{64})(?: created=(\S+))?$/.exec(lines[1] ?? '');
  if (!lines[0]?.startsWith('# Written by `podswarm-dns setup`') || !m) return { state: 'foreign', text };
  const body = lines.slice(2).join('\n');
  return { state: 'ours', text, body, createdDirs: m[2] ? m[2].split(',') : [], edited: sha256(body) !== m[1] };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
