// The package as an operator gets it, from a copy of the working tree made as
// a clean clone has it (no dist/, no node_modules/): `npm ci` there builds
// (the `prepare` script) and warns of no engine, build-if-stale runs tsc only
// when a source changed, `npm pack` ships the build and the docs and nothing
// else, and `npm install -g` of the tarball into a temporary prefix gives a
// `podswarm-dns` that serves the bundled Corefile.example from a directory
// without a Corefile, and examples that plain `node` runs. That server keeps
// the example's HTTP ports (8080, 8081, 8181, 9153), so it runs in a network
// namespace of the test's own, where they are free whatever else runs on the
// host (needs root).
// Dependencies come from the npm registry, through the local npm cache.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dnsmasqIn, stopAllDnsmasq, type Dnsmasq } from './helpers/dnsmasq.js';
import { createNetns, type Netns } from './helpers/netns-one.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { version: VERSION } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
/** -dns.port for the installed command, inside the namespace. */
const DNS_PORT = 18850;
const run = promisify(execFile);
// --prefer-offline: take what the npm cache has without asking the registry again.
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline'];

/** The environment without what an outer `npm test` or `--import tsx` passes down: nested npm and `node` run as an operator's would. */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE_OPTIONS'));
  return { ...env, UPSTREAM_DNS: '', ...extra };
}

/** Runs a command to completion; its stdout and stderr together, since npm warns on either. */
async function capture(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout, stderr } = await run(cmd, args, { cwd, env: plainEnv(env), maxBuffer: 64 << 20 });
  return stdout + stderr;
}

const npm = (args: string[], cwd: string): Promise<string> => capture('npm', [...args, ...NPM_FLAGS], cwd);

describe('the npm package', () => {
  let tmp: string;
  let clone: string;
  let tarball: string;
  let unpacked: string;
  let prefix: string;
  let installed: string;
  let upstream: Dnsmasq | undefined;
  let ns: Netns | undefined;
  let server: ChildProcess | undefined;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'podswarm-package-'));
    clone = join(tmp, 'clone');
    // Tracked files and untracked ones .gitignore does not exclude: the working tree as a clone of it would check out.
    const files = (await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })).stdout.split('\0');
    for (const f of files) if (f && existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(clone, f));
  });
  after(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill();
      await exited;
    }
    await upstream?.stop();
    stopAllDnsmasq();
    await ns?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('npm ci on a clean clone builds dist/ and prints no EBADENGINE or install-script warning', async () => {
    const out = await npm(['ci'], clone);
    assert.doesNotMatch(out, /EBADENGINE/, out);
    assert.doesNotMatch(out, /install-scripts/, out);
    assert.match(out, /build-if-stale: no finished build in dist\/: running tsc/, out);
    assert.ok(existsSync(join(clone, 'dist/src/cli.js')));
    assert.ok(existsSync(join(clone, 'dist/examples/service-client.js')));
  });

  it('build-if-stale runs tsc only when a source is newer than dist/', async () => {
    const cli = join(clone, 'dist/src/cli.js');
    const built = statSync(cli).mtimeMs;
    assert.equal(await capture(process.execPath, ['scripts/build-if-stale.mjs'], clone), '');
    assert.equal(statSync(cli).mtimeMs, built, 'dist/ is current: no tsc run');

    // A source saved after the build: the stamp carries the time that build's tsc started.
    const now = new Date();
    utimesSync(join(clone, 'src/version.ts'), now, now);
    assert.match(await capture(process.execPath, ['scripts/build-if-stale.mjs'], clone), /src\/version\.ts is newer than dist\/: running tsc/);
    assert.notEqual(statSync(cli).mtimeMs, built, 'tsc rewrote dist/');
  });

  it('npm pack ships dist/, the docs, the examples and LICENSE, and no tests or sources', async (t) => {
    const out = await npm(['pack', '--pack-destination', tmp], clone);
    assert.match(out, /build-if-stale: a clean build was asked for/, 'prepack builds from an empty dist/');
    assert.equal(out.match(/running tsc/g)?.length, 1, `prepare, which npm pack also runs, finds that build current:\n${out}`);
    tarball = join(tmp, `podswarm-dns-${VERSION}.tgz`);
    const listed = (await capture('tar', ['-tzf', tarball], tmp))
      .trim()
      .split('\n')
      .map((p) => p.replace(/^package\//, ''));
    const has = new Set(listed);
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'Corefile.example',
      'examples/services.yaml',
      'dist/src/cli.js',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/plugins/cluster/setup.js',
      'dist/examples/service-client.js',
      'examples/service-client.ts',
      'deploy/podswarm-dns.service',
    ])
      assert.ok(has.has(f), `${f} is in the package`);
    for (const p of readdirSync(join(clone, 'plugins'))) {
      if (existsSync(join(clone, 'plugins', p, 'README.md'))) assert.ok(has.has(`plugins/${p}/README.md`), `plugins/${p}/README.md is in the package`);
    }
    for (const f of listed) {
      assert.doesNotMatch(f, /^(test|bench|src|scripts|\.ci)\//, `${f} is not shipped`);
      assert.doesNotMatch(f, /^dist\/\.build-stamp$/);
      // TypeScript sources only as the readable examples; code is compiled .js and .d.ts.
      if (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) assert.match(f, /^examples\/[^/]+\.ts$/, `${f} is a TypeScript source`);
    }

    unpacked = join(tmp, 'unpacked');
    mkdirSync(unpacked);
    await capture('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1'], tmp);
    // Source maps: none are shipped; one that were would have to point at files in the package.
    for (const f of listed) {
      if (f.endsWith('.js')) {
        const url = /^\/\/# sourceMappingURL=(.+)$/m.exec(readFileSync(join(unpacked, f), 'utf8'))?.[1];
        if (url) assert.ok(has.has(posix.join(posix.dirname(f), url)), `${f} names a map the package lacks`);
      }
      if (f.endsWith('.map')) {
        const { sources } = JSON.parse(readFileSync(join(unpacked, f), 'utf8')) as { sources: string[] };
        for (const s of sources) assert.ok(has.has(posix.join(posix.dirname(f), s)), `${f} points at ${s}, not in the package`);
      }
    }
    const license = readFileSync(join(unpacked, 'LICENSE'), 'utf8');
    assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
    assert.match(license, /END OF TERMS AND CONDITIONS/);
    const size = statSync(tarball).size;
    t.diagnostic(`${posix.basename(tarball)}: ${listed.length} files, ${(size / 1024).toFixed(0)} kB`);
  });

  it('npm install -g of the tarball gives a podswarm-dns command (-version, -plugins)', async () => {
    prefix = join(tmp, 'prefix');
    const out = await npm(['install', '-g', '--prefix', prefix, tarball], tmp);
    assert.doesNotMatch(out, /EBADENGINE/, out);
    // No assertion on "install-scripts" here: npm 11 lists the package's own `prepare` for a tarball
    // (a non-registry source) though it runs prepare only for directories and git; from the registry it says nothing.
    const bin = join(prefix, 'bin/podswarm-dns');
    assert.equal(await capture(bin, ['-version'], tmp), `podswarm-dns-${VERSION}\n`);
    const plugins = (await capture(bin, ['-plugins'], tmp)).trim().split('\n');
    // Every plugin compiled into the package is in the chain.
    installed = join((await capture('npm', ['root', '-g', '--prefix', prefix], tmp)).trim(), 'podswarm-dns');
    for (const p of readdirSync(join(installed, 'dist/plugins'))) assert.ok(plugins.includes(p), `${p} in -plugins: ${plugins.join(' ')}`);
  });

  it('the installed command serves the bundled Corefile.example, and plain node runs an installed example', async () => {
    ns = await createNetns(`psw-package-${process.pid}`);
    const inNs = ['netns', 'exec', ns.name];
    upstream = await dnsmasqIn(ns.name, '127.0.0.1', ['outside.test,10.77.0.1']);
    // A directory with no ./Corefile: the bundled Corefile.example is the default.
    const cwd = join(tmp, 'elsewhere');
    mkdirSync(cwd);
    // `ip netns exec` execs the command: the child is the server itself.
    server = spawn('ip', [...inNs, join(prefix, 'bin/podswarm-dns'), '-dns.port', String(DNS_PORT), '-upstream-dns', '127.0.0.1:53'], {
      cwd,
      env: plainEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let banner = false;
    for await (const line of createInterface({ input: server.stdout! })) {
      if (/^podswarm-dns-\d/.test(line)) {
        banner = true;
        break;
      }
    }
    server.stdout!.resume();
    assert.ok(banner, `the server exited before serving:\n${stderr}`);

    const dig = (name: string) => ns!.dig('127.0.0.1', name, 'A', ['-p', String(DNS_PORT), '+norec']);
    const r = await dig('api.production.cluster.local');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(r.answer.map((a) => a.data).sort(), ['10.0.3.1', '10.0.3.2', '10.0.3.3']);
    for (const a of r.answer) {
      assert.equal(a.name, 'api.production.cluster.local.');
      assert.equal(a.type, 'A');
      assert.equal(a.ttl, 60);
    }
    assert.deepEqual(
      (await dig('outside.test')).answer.map((a) => a.data),
      ['10.77.0.1'],
    );

    const examples = join(installed, 'dist/examples');
    const client = await capture('ip', [...inNs, process.execPath, join(examples, 'service-client.js')], cwd);
    assert.match(client, /addresses: \[\s*'10\.0\.1\.1:5432',\s*'10\.0\.1\.2:5432',\s*'10\.0\.1\.3:5432'\s*\]/);
    const srv = await capture('ip', [...inNs, process.execPath, join(examples, 'dns-srv.js')], cwd, { PODSWARM_DNS: `127.0.0.1:${DNS_PORT}` });
    assert.match(srv, /api-0\.api\.production\.svc\.cluster\.local/);

    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
