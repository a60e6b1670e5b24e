#!/usr/bin/env node
// Runs tsc only when dist/ is older than its sources, so `npm start` after
// `npm ci` serves in well under a second instead of recompiling every time
// (a full tsc run takes 5-10 s). `npm ci` builds through the `prepare` script.
//
//   node scripts/build-if-stale.mjs           build if stale
//   node scripts/build-if-stale.mjs --clean   empty dist/, then build (prepack:
//                                             nothing an older build left, such
//                                             as outputs of deleted sources, ships)
//
// Stale means: no stamp from a finished build, a source newer than the stamp,
// or a different set of sources (a renamed or deleted file keeps old mtimes).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSCONFIG = join(ROOT, 'tsconfig.json');
const DIST = join(ROOT, 'dist');
// Outside dist/src, dist/plugins and dist/examples, so `npm pack` never ships it.
const STAMP = join(DIST, '.build-stamp');

/** tsconfig.json and every .ts/.json file under its "include" directories, sorted. */
function sources() {
  // tsconfig.json is plain JSON here; a comment in it fails loudly rather than silently skipping files.
  const { include } = JSON.parse(readFileSync(TSCONFIG, 'utf8'));
  const files = [TSCONFIG];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|json)$/.test(entry.name)) files.push(path);
    }
  };
  for (const dir of include) walk(join(ROOT, dir));
  return files.map((f) => relative(ROOT, f)).sort();
}

/** Why dist/ needs a build, or undefined when it is current. */
function staleness(files) {
  if (!existsSync(STAMP)) return 'no finished build in dist/';
  if (readFileSync(STAMP, 'utf8') !== JSON.stringify(files)) return 'the set of sources changed';
  const built = statSync(STAMP).mtimeMs;
  const newer = files.find((f) => statSync(join(ROOT, f)).mtimeMs > built);
  return newer && `${newer} is newer than dist/`;
}

function tsc() {
  let bin;
  try {
    bin = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    console.error('build-if-stale: dist/ needs a build and TypeScript is not installed (npm ci installs it; --omit=dev does not)');
    process.exit(1);
  }
  return spawnSync(process.execPath, [bin, '-p', TSCONFIG], { cwd: ROOT, stdio: 'inherit' }).status ?? 1;
}

const clean = process.argv.includes('--clean');
const files = sources();
const reason = clean ? 'a clean build was asked for' : staleness(files);
if (reason === undefined) process.exit(0);

console.error(`build-if-stale: ${reason}: running tsc`);
if (clean) rmSync(DIST, { recursive: true, force: true });
// The stamp carries the time tsc started: a source saved while tsc runs is newer, so the next run rebuilds.
const started = new Date();
const status = tsc();
if (status !== 0) process.exit(status);
mkdirSync(DIST, { recursive: true });
writeFileSync(STAMP, JSON.stringify(files));
utimesSync(STAMP, started, started);
