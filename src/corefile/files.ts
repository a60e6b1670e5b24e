// File access for `import`, injectable so tests and embedders need no disk.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';

export interface FileAccess {
  /** Reads a whole file as UTF-8; throws a Node-style error (code ENOENT, EISDIR...) on failure. */
  readFile(path: string): string;
  /**
   * Files matching `pattern` (relative to `baseDir` unless absolute), sorted,
   * as paths readFile accepts. `*` matches within one path segment; no other
   * wildcards. The parser only calls this for patterns with one `*`.
   */
  glob(pattern: string, baseDir: string): string[];
}

export const nodeFiles: FileAccess = {
  readFile: (path) => readFileSync(path, 'utf8'),
  glob: globFiles,
};

function globFiles(pattern: string, baseDir: string): string[] {
  const full = isAbsolute(pattern) ? normalize(pattern) : join(baseDir, pattern);
  const parts = full.split(sep);
  const at = parts.findIndex((p) => p.includes('*'));
  if (at < 0) return isFile(full) ? [full] : [];

  // '' before the wildcard means cwd for a relative path, root for an absolute one.
  const dir = at === 0 ? '.' : parts.slice(0, at).join(sep) || sep;
  const rest = parts.slice(at + 1);
  const re = new RegExp('^' + parts[at]!.split('*').map(escapeRegExp).join('.*') + '$');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => re.test(n))
    .sort()
    .map((n) => join(dir, n, ...rest))
    .filter(isFile);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
