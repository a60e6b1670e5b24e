// Rules of the tree's shape that a reviewer would otherwise have to grep
// for: each is a property of the source files, checked on every run.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { PLUGINS } from '../src/chain/plugins.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every .ts file under `dir` (relative to the repository root), recursively. */
function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** The module specifiers a file imports or re-exports, dynamic imports included (TypeScript's own scanner). */
function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

/** The lines of the .ts files under `dirs` that match one of `rules`, as `file:line: text`, except in the files `except` names. */
function linesMatching(dirs: string[], rules: RegExp[], except: string[] = []): string[] {
  const found: string[] = [];
  for (const file of dirs.flatMap(tsFiles)) {
    if (except.includes(file)) continue;
    readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (rules.some((re) => re.test(line))) found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
  }
  return found;
}

// As CoreDNS: code two plugins share is in the core (src/), so a plugin can be
// removed or rewritten without breaking another.
test('no plugin imports another plugin', () => {
  const crossings: string[] = [];
  for (const file of tsFiles('plugins')) {
    const own = file.split(sep)[1];
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(ROOT, resolve(ROOT, dirname(file), spec)).split(sep);
      if (target[0] === 'plugins' && target[1] !== own) crossings.push(`${file} imports ${spec}`);
    }
  }
  assert.deepEqual(crossings, []);
});

// The IPv6 bracket rule (`[v6]:port`) is written once, in src/util/hostport.ts:
// these are the shapes its hand-written copies took.
const BRACKET_RULE = [
  /\?\s*`\[\$\{/, // x.includes(':') ? `[${x}]` : x
  /`\[\$\{[^}`]*\}\]:/, // `[${host}]:${port}`
  /startsWith\('\['\)/, // a parser looking for the opening bracket
  /indexOf\('\]'\)/, // ... and for the closing one
  /\\\[\(\[\^\\\]\]/, // /\[([^\]]+)\]/
];

test('only src/util/hostport.ts splits or joins host:port', () => {
  assert.deepEqual(linesMatching(['src', 'plugins', 'bench', 'examples'], BRACKET_RULE, [join('src', 'util', 'hostport.ts')]), []);
});

// src/chain/plugins.ts is the plugin.cfg: a plugin folder missing from it is never compiled in.
test('every plugin folder is in the plugin list once, under its own name', () => {
  const folders = readdirSync(join(ROOT, 'plugins'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  assert.deepEqual(PLUGINS.map((p) => p.name).sort(), folders);
});

// A registry source key is made by sourceKey and classified by sourceKind and
// isOwnSource (src/sources/source-id.ts): these are the shapes the hand-made
// keys and prefix checks took before.
const SOURCE_KEY_BY_HAND = [
  /['"`](?:file|podman|kube|gossip|etcd):(?:['"`]|\$\{)/, // 'gossip:' + owner, `file:${path}`
  /\^\(?[a-z|]*(?:file|podman|kube|gossip|etcd)[a-z|]*\)?:/, // /^(podman|kube):/
];

test('only src/sources/source-id.ts spells a registry source key', () => {
  assert.deepEqual(linesMatching(['src', 'plugins'], SOURCE_KEY_BY_HAND, [join('src', 'sources', 'source-id.ts')]), []);
});

// A core folder named after a plugin holds that plugin's logic (src/healthcheck
// is the healthcheck plugin's, not the health plugin's, as src/health once was).
test('a src/ folder named after a plugin is what that plugin imports', () => {
  const plugins = new Set(PLUGINS.map((p) => p.name));
  const strays: string[] = [];
  for (const folder of readdirSync(join(ROOT, 'src'), { withFileTypes: true })) {
    if (!folder.isDirectory() || !plugins.has(folder.name)) continue;
    const own = join('src', folder.name);
    const used = tsFiles(join('plugins', folder.name)).some((file) =>
      importsOf(file).some((spec) => spec.startsWith('.') && relative(ROOT, resolve(ROOT, dirname(file), spec)).startsWith(own + sep)),
    );
    if (!used) strays.push(`${own} is named after plugins/${folder.name}, which does not use it`);
  }
  assert.deepEqual(strays, []);
});

// memberlist's own modules know serf only as their delegate (src/gossip/delegate.ts):
// memberlist.ts plugs the serf layer in, and nothing else of serf's is imported.
test('src/gossip imports serf only where memberlist.ts plugs it in', () => {
  const serfImports: string[] = [];
  for (const file of tsFiles(join('src', 'gossip'))) {
    if (file.split(sep).at(-1)!.startsWith('serf')) continue;
    for (const spec of importsOf(file)) {
      const plugIn = file === join('src', 'gossip', 'memberlist.ts') && spec === './serf-delegate.js';
      if (spec.startsWith('./serf') && !plugIn) serfImports.push(`${file} imports ${spec}`);
    }
  }
  assert.deepEqual(serfImports, []);
});

// One owner of the lifecycle (start, reload, shutdown, fatal): no module
// rewires them by assigning to the App, as placeholders did, and a reader
// finds the whole sequence in src/server/lifecycle.ts.
test('only src/server/lifecycle.ts decides what reload, fatal and shutdown do', () => {
  assert.deepEqual(linesMatching(['src', 'plugins'], [/\bapp\.(reload|fatal|shutdown)\s*=(?!=)/], [join('src', 'server', 'lifecycle.ts')]), []);
});

// What outlives a reload goes through src/chain/kept-across-reload.ts (shares
// with create and dispose, or KeptForLife), not a module-level map per App or
// per registry with an ownership protocol of its own.
test('no module-level map per App or registry outside src/chain/kept-across-reload.ts', () => {
  const maps: string[] = [];
  for (const file of ['src', 'plugins'].flatMap(tsFiles)) {
    if (file === join('src', 'chain', 'kept-across-reload.ts')) continue;
    const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
    for (const statement of source.statements) {
      if (!ts.isVariableStatement(statement)) continue;
      for (const d of statement.declarationList.declarations) {
        const text = `${d.type?.getText(source) ?? ''} ${d.initializer?.getText(source) ?? ''}`;
        if (/\b(Weak)?Map<\s*(App|Registry)\b/.test(text)) maps.push(`${file}: ${d.name.getText(source)}`);
      }
    }
  }
  assert.deepEqual(maps, []);
});
