// A Podman storage of a test's own: containers, images, runtime state and
// network configuration in a directory the test made. The libpod API then
// lists only the test's containers, whatever else the host's Podman holds
// (another suite's labelled containers would be registered too), and no
// name or subnet is shared with anyone. Needs root.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The global podman flags that select the storage under `dir`. */
export function storageFlags(dir: string): string[] {
  // --tmpdir too: libpod keeps its "alive" marker there, and a second Podman sharing the host's
  // would make the host's Podman think the machine rebooted and refresh every container.
  const d = (x: string): string => join(dir, x);
  return ['--root', d('root'), '--runroot', d('run'), '--tmpdir', d('tmp'), '--network-config-dir', d('networks')];
}

const saved = new Map<string, Promise<string>>();
const archiveDirs: string[] = [];
process.once('exit', () => {
  for (const d of archiveDirs) rmSync(d, { recursive: true, force: true });
});

/** `image` from the host's storage as an archive, saved once per process (no registry is reachable). */
export function imageArchive(image: string): Promise<string> {
  let tar = saved.get(image);
  if (!tar) {
    const dir = mkdtempSync(join(tmpdir(), 'psw-image-'));
    archiveDirs.push(dir);
    const path = join(dir, 'image.tar');
    tar = run('podman', ['save', '--quiet', '-o', path, image]).then(
      () => path,
      (e: { stderr?: string; message: string }) => {
        throw new Error(`podman save ${image} failed (scripts/podman-image.sh builds it): ${e.stderr?.trim() || e.message}`);
      },
    );
    saved.set(image, tar);
  }
  return tar;
}

/** Unmounts what c/storage left mounted under `dir` (its overlay directory, on itself), then removes `dir`. */
export async function removeStorage(dir: string): Promise<void> {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
    const point = line.split(' ')[4];
    if (point?.startsWith(dir)) await run('umount', ['-l', point]).catch(() => {});
  }
  rmSync(dir, { recursive: true, force: true });
}
