// The package root and version, found by walking up from this file (it runs
// from dist/src when built and from src under tsx in tests).

import { existsSync, readFileSync } from 'node:fs';

function findRoot(): URL {
  let dir = new URL('./', import.meta.url);
  for (let i = 0; i < 4; i++) {
    if (existsSync(new URL('package.json', dir))) return dir;
    dir = new URL('../', dir);
  }
  throw new Error('package.json not found above ' + import.meta.url);
}

export const PACKAGE_ROOT = findRoot();

export const VERSION: string = (JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8')) as { version: string }).version;
