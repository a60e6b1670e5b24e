// What `setup` changes, as a list planned before anything is touched: printed
// by --dry-run, applied in order otherwise. If one step fails, the steps
// already done are reversed, so a refused setup leaves the machine as it was.

import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { addAddress, describeAddress, removeAddress } from './node-address.js';
import { writeFileAtomic } from '../state/atomic-file.js';

export type Change =
  | { kind: 'mkdir'; path: string }
  | { kind: 'rmdir'; path: string }
  /** `previous`: the text it replaces, restored if a later step fails. */
  | { kind: 'write'; path: string; text: string; previous?: string }
  | { kind: 'remove'; path: string; previous: string }
  | { kind: 'add-address'; address: string }
  | { kind: 'remove-address'; address: string };

export function describeChange(c: Change): string {
  switch (c.kind) {
    case 'mkdir':
      return `create directory ${c.path}`;
    case 'rmdir':
      return `remove directory ${c.path}`;
    case 'write':
      return `${c.previous === undefined ? 'write' : 'replace'} ${c.path}:\n${c.text.replace(/^/gm, '    ')}`;
    case 'remove':
      return `remove ${c.path}`;
    case 'add-address':
      return `add ${describeAddress(c.address)}`;
    case 'remove-address':
      return `remove ${describeAddress(c.address)}`;
  }
}

export async function applyChanges(changes: readonly Change[], say: (line: string) => void): Promise<void> {
  const done: Change[] = [];
  try {
    for (const c of changes) {
      await apply(c);
      done.push(c);
      say(describeChange(c).split('\n')[0]!.replace(/:$/, ''));
    }
  } catch (e) {
    for (const c of done.reverse()) await apply(inverse(c)).catch(() => {});
    throw new Error(`${(e as Error).message} (nothing was changed)`);
  }
}

async function apply(c: Change): Promise<void> {
  switch (c.kind) {
    case 'mkdir':
      return void mkdirSync(c.path);
    case 'rmdir':
      return rmdirSync(c.path);
    case 'write':
      // Never a half-written file, and readable by Podman and users as the files beside it.
      return writeFileAtomic(c.path, c.text, 0o644);
    case 'remove':
      return rmSync(c.path);
    case 'add-address':
      return addAddress(c.address);
    case 'remove-address':
      return removeAddress(c.address);
  }
}

function inverse(c: Change): Change {
  switch (c.kind) {
    case 'mkdir':
      return { kind: 'rmdir', path: c.path };
    case 'rmdir':
      return { kind: 'mkdir', path: c.path };
    case 'write':
      return c.previous === undefined ? { kind: 'remove', path: c.path, previous: c.text } : { kind: 'write', path: c.path, text: c.previous };
    case 'remove':
      return { kind: 'write', path: c.path, text: c.previous };
    case 'add-address':
      return { kind: 'remove-address', address: c.address };
    case 'remove-address':
      return { kind: 'add-address', address: c.address };
  }
}
