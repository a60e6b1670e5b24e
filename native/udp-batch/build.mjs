#!/usr/bin/env node
// Builds the batched UDP addon at install (`npm ci`, `npm install`) with
// node-gyp against the headers of the Node that runs it, and never fails the
// install: without headers or a compiler the server runs on node:dgram. It
// never downloads headers either: node-gyp is given the local ones with
// --nodedir, and when there are none the build is skipped.
//
//   node native/udp-batch/build.mjs     build (or say why not, exit 0)

import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const FALLBACK = 'podswarm-dns will use node:dgram for UDP';

function skip(why) {
  process.stdout.write(`udp-batch: not built: ${why}; ${FALLBACK}\n`);
  process.exit(0);
}

/** A directory with include/node/node_api.h and common.gypi for this Node: $npm_config_nodedir, else Node's own prefix. */
function nodeDir() {
  const candidates = [process.env.npm_config_nodedir, join(dirname(process.execPath), '..')].filter(Boolean);
  return candidates.find((d) => existsSync(join(d, 'include/node/node_api.h')) && existsSync(join(d, 'include/node/common.gypi')));
}

/** node-gyp: the one npm runs scripts with ($npm_config_node_gyp), else the one bundled with npm next to this Node. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp, join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')].filter(Boolean);
  return candidates.find((p) => existsSync(p));
}

/** The command's path: as given when it has a slash, else found on $PATH. */
function which(cmd) {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : undefined;
  return (process.env.PATH ?? '').split(':').map((d) => join(d, cmd)).find((p) => existsSync(p));
}

if (process.platform !== 'linux') skip(`recvmmsg/sendmmsg are Linux system calls (this is ${process.platform})`);
const nodedir = nodeDir();
if (!nodedir) skip(`no Node headers (include/node/node_api.h) under ${join(dirname(process.execPath), '..')} (Debian: apt-get install libnode-dev)`);
const gyp = nodeGyp();
if (!gyp) skip('node-gyp not found (it comes with npm)');

// node-gyp compiles with $CC, links with $CXX (gyp's make generator), and runs gyp with python3.
const missing = [process.env.CC || 'cc', process.env.CXX || 'c++', 'make', 'python3'].filter((c) => !which(c));
if (missing.length > 0) skip(`${missing.join(', ')} not installed (Debian: apt-get install g++ make python3)`);

const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=error'], { cwd: HERE, encoding: 'utf8' });
if (r.status !== 0) {
  // A half-made build must not be loaded later.
  rmSync(join(HERE, 'build'), { recursive: true, force: true });
  const lines = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n');
  const detail = lines.find((l) => /error/i.test(l) && !l.startsWith('gyp ERR!')) ?? lines.find((l) => l.startsWith('gyp ERR!')) ?? r.error?.message;
  skip(`node-gyp failed: ${detail?.trim()}`);
}
process.stdout.write(`udp-batch: built ${join(HERE, 'build/Release/udp_batch.node')}\n`);
