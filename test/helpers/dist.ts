// The compiled CLI the end-to-end tests run, checked against its sources:
// a test file run by hand after an edit to src/ would otherwise test the
// previous build and pass or fail for reasons that are not in the tree.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What tsconfig.json compiles into dist/. */
const COMPILED = ['src', 'plugins', 'examples'];

/** The first source whose dist/ file is missing or older than it, or undefined when dist/ is current. */
function staleSource(): string | undefined {
  for (const dir of COMPILED) {
    for (const file of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
      const source = join(dir, file);
      const built = join(ROOT, 'dist', source.replace(/\.ts$/, '.js'));
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(ROOT, source)).mtimeMs) return source;
    }
  }
  return undefined;
}

let checked: string | undefined;

/** dist/src/cli.js, or a loud failure when it is missing or older than a source: a test must not pass on a stale build. */
export function builtCli(): string {
  if (checked) return checked;
  const stale = staleSource();
  if (stale) throw new Error(`dist/ is older than ${stale}: run \`npm run build\` (npm test builds first)`);
  checked = join(ROOT, 'dist/src/cli.js');
  return checked;
}
