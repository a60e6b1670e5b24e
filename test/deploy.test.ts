// The files in deploy/ against the real programs that read them: systemd's
// own verifier and security analyser for the unit, and real Podman for the
// image (built by scripts/build-image.sh) and the Quadlet file's commands.
// The container runs with --network host inside a network namespace this
// test creates, so the node address goes on that namespace's lo and every
// query stays inside it. Needs root, podman, systemd-analyze, dig, curl,
// nsenter and python3 (the notification socket).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dnsSettings, renderDropin } from '../src/setup/containers-conf.js';
import { renderOwned } from '../src/setup/owned-file.js';
import { parseDig } from './helpers/dig.js';
import { builtCli } from './helpers/dist.js';
import { eventually } from './helpers/eventually.js';
import { listenNotifySocket, type NotifySocket } from './helpers/notify-socket.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const UNIT = join(ROOT, 'deploy/podswarm-dns.service');
const QUADLET = join(ROOT, 'deploy/podswarm-dns.container');
const CLI = builtCli();
const NODE_ADDRESS = '169.254.20.10';
const API_PORT = 18760;
const READY_PORT = 18761;

/** Runs a program; a failure carries its own stderr. */
async function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv, timeout = 120_000): Promise<string> {
  try {
    return (await run(cmd, args, { timeout, env: env ?? process.env, maxBuffer: 16 << 20 })).stdout;
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr?.trim() || err.stdout?.trim() || err.message}`);
  }
}

/** `systemd-analyze verify`: everything it prints (a clean unit prints nothing). */
async function verify(unit: string): Promise<string> {
  const r = await run('systemd-analyze', ['verify', unit]).catch((e: { stdout: string; stderr: string }) => e);
  return (r.stdout + r.stderr).trim();
}

describe('deploy/podswarm-dns.service', () => {
  let dir = '';
  let unit = '';
  before(() => {
    // The unit as installed, with its binary pointing at this build instead of
    // /usr/bin/podswarm-dns (verify checks that every command is executable).
    dir = mkdtempSync(join(tmpdir(), 'psw-deploy-unit-'));
    const bin = join(dir, 'podswarm-dns');
    writeFileSync(bin, `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@"\n`, { mode: 0o755 });
    unit = join(dir, 'podswarm-dns.service');
    writeFileSync(unit, readFileSync(UNIT, 'utf8').replaceAll('/usr/bin/podswarm-dns', bin));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('systemd-analyze verify accepts it without a warning', async () => {
    assert.equal(await verify(unit), '');
  });

  test('the verify check catches a broken unit', async () => {
    const broken = join(dir, 'broken', 'podswarm-dns.service');
    mkdirSync(join(dir, 'broken'));
    writeFileSync(broken, readFileSync(unit, 'utf8').replace('Type=notify', 'Type=notfy').replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes'));
    const out = await verify(broken);
    assert.match(out, /Failed to parse service type.*notfy/);
    assert.match(out, /Unknown key 'NoNewPrivilege'/);
  });

  test('its commands run the CLI as the unit says: notify readiness, a reload signal, setup link as root', () => {
    const text = readFileSync(UNIT, 'utf8');
    assert.match(text, /^Type=notify$/m);
    assert.match(text, /^NotifyAccess=all$/m);
    assert.match(text, /^ExecStartPre=\+\/usr\/bin\/podswarm-dns setup link$/m);
    assert.match(text, /^ExecStart=\/usr\/bin\/podswarm-dns -conf \/etc\/podswarm-dns\/Corefile$/m);
    assert.match(text, /^ExecReload=\/bin\/kill -USR1 \$MAINPID$/m);
    assert.match(text, /^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m);
  });

  test('the CLI accepts the ExecStart arguments', async () => {
    // The same arguments with -plugins: parsed, then it exits without serving.
    const out = await sh(join(dir, 'podswarm-dns'), ['-conf', '/etc/podswarm-dns/Corefile', '-plugins']);
    assert.match(out, /^cluster$/m);
  });

  test('systemd-analyze security rates the sandbox OK', async () => {
    const out = await sh('systemd-analyze', ['security', '--offline=yes', unit]);
    assert.match(out, /Overall exposure level for podswarm-dns\.service: [\d.]+ OK/);
  });
});

/** The flags the Quadlet file's [Container] section maps to (deploy/README.md lists them for Podman 4.3). */
const QUADLET_FLAGS = [
  '--init',
  '--sdnotify=container',
  '--network',
  'host',
  '--cap-drop',
  'all',
  '--cap-add',
  'CAP_NET_BIND_SERVICE',
  '--security-opt',
  'no-new-privileges',
  '--read-only',
];

describe('the image under Podman, in a network namespace', () => {
  const tag = `psw-deploy-${process.pid}`;
  const ns = tag;
  const name = `${tag}-dns`;
  let dir = '';
  /** The image's ID, not its tag: another suite on the host may tag a build of its own meanwhile. */
  let image = '';
  let service: ChildProcess | undefined;
  let notify: NotifySocket | undefined;
  const inNs = (cmd: string, args: string[]): Promise<string> => sh('ip', ['netns', 'exec', ns, cmd, ...args]);
  /** Podman started inside the namespace: `--network host` is the namespace's network. */
  const podmanInNs = (args: string[], env?: NodeJS.ProcessEnv): Promise<string> => sh('nsenter', [`--net=/run/netns/${ns}`, 'podman', ...args], env);

  before(async () => {
    image = (await sh('scripts/build-image.sh', [], undefined, 600_000).catch((e: Error) => assert.fail(e.message))).trim();
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    dir = mkdtempSync(join(tmpdir(), 'psw-deploy-'));
    chmodSync(dir, 0o755);
    for (const d of ['etc', 'containers.conf.d', 'podman']) mkdirSync(join(dir, d), { mode: 0o755 });
    // The drop-in exactly as `setup podman` writes it: `setup link` reads the addresses from it.
    writeFileSync(join(dir, 'containers.conf.d/50-podswarm-dns.conf'), renderOwned(renderDropin(dnsSettings([NODE_ADDRESS])), [], 'test'));
    writeFileSync(
      join(dir, 'etc/Corefile'),
      `# A node Corefile: the node address, port 53.
cluster.local:53 {
    bind ${NODE_ADDRESS}
    ready 127.0.0.1:${READY_PORT}
    podman
    api {
        listen 127.0.0.1:${API_PORT}
    }
    cluster {
        registry /etc/podswarm-dns/services.yaml
    }
    srv
}
`,
    );
    writeFileSync(
      join(dir, 'etc/services.yaml'),
      `services:
  - name: web
    namespace: deploy
    ports:
      - { name: http, port: 8080, protocol: tcp }
    endpoints:
      - { name: web-0, address: 10.0.7.1 }
      - { name: web-1, address: 10.0.7.2 }
`,
    );
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
    // Root's podman API as podman.socket serves it (root:root 0660), for the podman plugin.
    const sock = join(dir, 'podman/podman.sock');
    service = spawn('podman', ['system', 'service', '--time', '0', `unix://${sock}`], { stdio: 'ignore' });
    await eventually(async () => existsSync(sock), Boolean, 'the podman API socket');
    chmodSync(sock, 0o660);
    notify = await listenNotifySocket();
  });

  after(async () => {
    await run('podman', ['rm', '-f', '-t', '0', name]).catch(() => {});
    await notify?.close();
    if (service && service.exitCode === null) {
      const exited = new Promise((r) => service!.once('exit', r));
      service.kill();
      await exited;
    }
    await run('ip', ['netns', 'del', ns]).catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the Quadlet ExecStartPre (setup link in the image) puts the node address on lo, idempotently', async () => {
    const line = /^ExecStartPre=(.*)$/m.exec(readFileSync(QUADLET, 'utf8'))?.[1];
    assert.ok(line, 'ExecStartPre in the Quadlet file');
    // The command as written; only the drop-in directory is this test's.
    const [cmd, ...args] = line.split(/\s+/).map((a) => a.replace(/^\/etc\/containers\/containers\.conf\.d:/, `${dir}/containers.conf.d:`));
    assert.equal(cmd, '/usr/bin/podman');
    const first = await sh('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args]);
    assert.match(first, new RegExp(`add ${NODE_ADDRESS.replaceAll('.', '\\.')}/32 on lo`));
    const second = await sh('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args]);
    assert.match(second, /nothing to change/);
    const lo = JSON.parse(await sh('ip', ['-n', ns, '-j', 'addr', 'show', 'dev', 'lo'])) as Array<{ addr_info: Array<{ local: string; label?: string }> }>;
    assert.deepEqual(
      lo[0]!.addr_info.filter((a) => a.local === NODE_ADDRESS).map((a) => a.label),
      ['lo:podswarm'],
    );
  });

  test('READY=1 arrives once it serves cluster names on the node address, port 53', async () => {
    await podmanInNs(
      [
        'run',
        '-d',
        '--name',
        name,
        ...QUADLET_FLAGS,
        '--dns',
        '127.0.0.1',
        '-v',
        `${dir}/etc:/etc/podswarm-dns:ro`,
        '-v',
        `${dir}/podman/podman.sock:/run/podman/podman.sock`,
        '-v',
        `${dir}/resolv.conf:/etc/resolv.conf:ro`,
        image,
      ],
      { ...process.env, NOTIFY_SOCKET: notify!.path },
    );
    await notify!.next(/^READY=1$/, 60_000);
    const a = parseDig(await inNs('dig', [`@${NODE_ADDRESS}`, 'web.deploy.cluster.local', 'A', '+norec', '+time=2', '+tries=1']));
    assert.equal(a.status, 'NOERROR', a.raw);
    assert.deepEqual(a.answer.map((r) => r.data).sort(), ['10.0.7.1', '10.0.7.2']);
    const srv = parseDig(await inNs('dig', [`@${NODE_ADDRESS}`, '_http._tcp.web.deploy.cluster.local', 'SRV', '+norec', '+time=2', '+tries=1', '+tcp']));
    assert.deepEqual(srv.answer.map((r) => r.data.split(' ').slice(2).join(' ')).sort(), [
      '8080 web-0.web.deploy.svc.cluster.local.',
      '8080 web-1.web.deploy.svc.cluster.local.',
    ]);
  });

  test('the discovery API answers inside the namespace', async () => {
    const body = JSON.parse(await inNs('curl', ['-sf', `http://127.0.0.1:${API_PORT}/api/v1/services/deploy/web/addresses`])) as { addresses: string[] };
    assert.deepEqual(body.addresses.sort(), ['10.0.7.1:8080', '10.0.7.2:8080']);
  });

  test('with one capability, uid 0 reaches the root-owned podman socket', async () => {
    // /ready turns 200 once the podman plugin has listed the containers.
    await eventually(
      () => inNs('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${READY_PORT}/ready`]),
      (code) => code === '200',
      '/ready (the podman plugin synced)',
    );
    const logs = await sh('podman', ['logs', name]);
    assert.match(logs, /plugin\/podman: synced \d+ labelled container\(s\) from \/run\/podman\/podman\.sock/);
    const caps = await sh('podman', ['inspect', '--format', '{{.EffectiveCaps}}', name]);
    assert.equal(caps.trim(), '[CAP_NET_BIND_SERVICE]');
  });

  test('SIGTERM stops it cleanly', async () => {
    await sh('podman', ['stop', '-t', '20', name]);
    assert.equal((await sh('podman', ['inspect', '--format', '{{.State.ExitCode}}', name])).trim(), '0');
  });
});
