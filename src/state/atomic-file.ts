// Replacing a file so that a crash at any moment leaves either the old or the
// new contents, never a mix: write a temporary file, fsync it, rename it over
// the old one, fsync the directory (the rename itself is durable only then).

import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The temporary file beside `path`; one writer per file (see group-commit.ts), so one name does. */
export function tempPathOf(path: string): string {
  return `${path}.tmp`;
}

/** `mode`: the new file's permissions (state is private; setup's config files are world-readable). */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = tempPathOf(path);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDirectory(dirname(path));
}

export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
