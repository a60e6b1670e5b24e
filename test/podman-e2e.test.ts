// The user's flow with real Podman: labelled containers are registered from
// the libpod API, and a container started with `--dns <node>` finds them by
// name (A, SRV), reaches one over TCP, and still resolves outside names
// through the node's forwarder. Needs root, podman and the local busybox
// image (scripts/podman-image.sh). Never skipped: if podman cannot run a
// container, the test fails with podman's own error.
//
// Addresses: only the podman network this test creates (on a subnet from
// helpers/ports.ts) and loopback. Every container gets `--dns` (the host resolver is off limits).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { startServer, type RunningServer } from './helpers/server.js';
import { podmanPrefix, removeLeftovers } from './helpers/podman-names.js';
import { stopChild } from './helpers/podman-netns.js';
import { freePorts, podmanSubnet } from './helpers/ports.js';

const run = promisify(execFile);

const TAG = 'psw-podman-e2e';
const PREFIX = podmanPrefix(TAG);
const NET = `${PREFIX}net`;
const SUBNET = await podmanSubnet();
const GATEWAY = `${SUBNET}.1`;
const IMAGE = 'localhost/busybox:latest';
const [API_PORT, UPSTREAM_PORT] = await freePorts(2);
const SOCKET = `/tmp/psw-e2e-${process.pid}.sock`;
const API = `http://127.0.0.1:${API_PORT}/api/v1/services/e2e/web/endpoints`;
const OUTSIDE = 'outside.e2e-upstream.test';
const OUTSIDE_ADDR = '198.51.100.7'; // only ever an answer, never dialled
const ping = new Agent({ connect: { socketPath: SOCKET } });

/** Runs podman; a failure carries podman's own stderr. */
async function podman(...args: string[]): Promise<string> {
  try {
    return (await run('podman', args, { timeout: 60_000 })).stdout.trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`podman ${args.join(' ')} failed: ${err.stderr?.trim() || err.message}`);
  }
}

/** Runs a throwaway client container on the test network, resolving through our node. */
function client(script: string): Promise<string> {
  return podman('run', '--rm', '--network', NET, '--dns', GATEWAY, IMAGE, 'sh', '-c', script);
}

function ipOf(name: string): Promise<string> {
  return podman('inspect', '--format', `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`, name);
}

function serviceContainer(name: string): Promise<string> {
  return podman(
    'run',
    '-d',
    '--name',
    PREFIX + name,
    '--network',
    NET,
    '--dns',
    GATEWAY,
    '--label',
    'podswarm.service=web',
    '--label',
    'podswarm.namespace=e2e',
    '--label',
    'podswarm.ports=http:8080/tcp',
    IMAGE,
    'httpd',
    '-f',
    '-p',
    '8080',
    '-h',
    '/etc',
  );
}

/** Removes what this run made, and what an earlier, interrupted one left behind. */
function cleanup(): Promise<void> {
  return removeLeftovers(podman, TAG);
}

interface Endpoints {
  index: number;
  addresses: string[];
}

async function endpoints(index = 0, url = API): Promise<Endpoints> {
  const res = await fetch(`${url}?index=${index}&wait=20s`);
  const next = Number(res.headers.get('x-podswarm-index'));
  const body = (await res.json()) as Array<{ address: string }> | { error: string };
  return { index: next, addresses: Array.isArray(body) ? body.map((e) => e.address).sort() : [] };
}

/** Follows the API's blocking query until `want` holds (each round waits for a change). */
async function until(want: (addrs: string[]) => boolean, url = API, rounds = 10): Promise<string[]> {
  let r = await endpoints(0, url);
  for (let i = 0; i < rounds && !want(r.addresses); i++) r = await endpoints(r.index, url);
  return r.addresses;
}

/** `podman system service` on SOCKET, once it answers (bounded: a few seconds or the test fails). */
async function podmanService(): Promise<ChildProcess> {
  const p = spawnChecked('podman', ['system', 'service', '--time', '0', `unix://${SOCKET}`]);
  for (let i = 0; ; i++) {
    const ok = await request('http://podman/v4.0.0/libpod/_ping', { dispatcher: ping }).then(
      async (r) => (await r.body.text()) === 'OK',
      () => false,
    );
    if (ok) return p;
    if (i === 50) throw new Error(`podman system service did not answer on ${SOCKET}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function spawnChecked(cmd: string, args: string[]): ChildProcess {
  const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  p.once('exit', (code) => {
    if (code !== null && code !== 0) process.stderr.write(`${cmd} exited ${code}: ${err}\n`);
  });
  return p;
}

describe('podman end to end', { timeout: 300_000 }, () => {
  let service: ChildProcess | undefined;
  let upstream: ChildProcess | undefined;
  let server: RunningServer | undefined;
  let ip1 = '';
  let ip2 = '';

  before(async () => {
    await podman('--version');
    await podman('image', 'exists', IMAGE).catch(() => {
      throw new Error(`image ${IMAGE} is missing: run scripts/podman-image.sh (as root)`);
    });
    await cleanup();
    service = await podmanService();
    await podman('network', 'create', '--disable-dns', '--subnet', `${SUBNET}.0/24`, NET);
    // The bridge (and its gateway address, where we listen) exists only while a container runs.
    await podman('run', '-d', '--name', PREFIX + 'anchor', '--network', NET, '--dns', GATEWAY, IMAGE, 'sleep', '3600');
    upstream = spawnChecked('dnsmasq', [
      '--keep-in-foreground',
      `--port=${UPSTREAM_PORT}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      `--host-record=${OUTSIDE},${OUTSIDE_ADDR}`,
      '--pid-file=',
    ]);
    server = await startServer({
      corefile: `.:53 {
        bind ${GATEWAY}
        podman {
          socket ${SOCKET}
          network ${NET}
        }
        api { listen 127.0.0.1:${API_PORT} }
        healthcheck {
          interval 300ms
          threshold 1s
          timeout 300ms
        }
        cluster cluster.local
        srv cluster.local
        forward . 127.0.0.1:${UPSTREAM_PORT}
      }`,
    });
    await server.waitFor(/plugin\/podman: synced/);
    await serviceContainer('web1');
    await serviceContainer('web2');
    ip1 = await ipOf(PREFIX + 'web1');
    ip2 = await ipOf(PREFIX + 'web2');
  });

  after(async () => {
    await server?.stop();
    await stopChild(upstream);
    await cleanup();
    await stopChild(service);
    await ping.close();
  });

  test('the endpoints API lists both containers, owned by this node', async () => {
    assert.deepEqual(await until((a) => a.length === 2), [ip1, ip2].sort());
    // Each is listed at once, and healthy from its first passing check (interval 300ms).
    for (const name of ['web1', 'web2']) await server!.waitFor(new RegExp(`registry: endpoint ${PREFIX}${name}\\.web\\.e2e \\S+ \\([^)]+\\) is healthy`));
    const list = (await (await fetch(API)).json()) as Array<{ name: string; port: number; healthy: boolean }>;
    assert.deepEqual(list.map((e) => e.name).sort(), [PREFIX + 'web1', PREFIX + 'web2']);
    assert.ok(list.every((e) => e.port === 8080 && e.healthy));
  });

  test('a client container with --dns resolves the service (A), its named port (SRV) and outside names', async () => {
    await until((a) => a.length === 2);
    const out = await client(
      `nslookup -type=a web.e2e.cluster.local; echo ===; nslookup -type=srv _http._tcp.web.e2e.cluster.local; echo ===; nslookup -type=a ${OUTSIDE}`,
    );
    const [a, srv, outside] = out.split('===');
    assert.match(a!, new RegExp(`Address: ${ip1.replaceAll('.', '\\.')}\\b`), out);
    assert.match(a!, new RegExp(`Address: ${ip2.replaceAll('.', '\\.')}\\b`), out);
    assert.equal((srv!.match(/ 8080 /g) ?? []).length, 2, out);
    assert.match(srv!, new RegExp(`${PREFIX}web1\\.web\\.e2e\\.`), out);
    assert.match(outside!, new RegExp(`Address: ${OUTSIDE_ADDR.replaceAll('.', '\\.')}`), out);
  });

  test('a client container reaches the service over TCP by its DNS name', async () => {
    const out = await client('wget -qO- http://web.e2e.cluster.local:8080/passwd');
    assert.match(out, /^root:x:0:0:/);
  });

  test('stopping a container removes it from the API and the answers', async () => {
    await podman('stop', '-t', '0', PREFIX + 'web1');
    assert.deepEqual(await until((a) => a.length === 1), [ip2]);
    const out = await client('nslookup -type=a web.e2e.cluster.local');
    assert.match(out, new RegExp(`Address: ${ip2.replaceAll('.', '\\.')}\\b`), out);
    assert.doesNotMatch(out, new RegExp(`Address: ${ip1.replaceAll('.', '\\.')}\\b`), out);
  });

  test('losing the podman socket keeps the known endpoints and resyncs on reconnect', async () => {
    await stopChild(service);
    await server!.waitFor(/podman socket .*: .*keeping 1 known endpoint\(s\), retrying/);
    assert.deepEqual((await endpoints()).addresses, [ip2]);
    // A container that starts while the socket is gone arrives with the resync.
    await serviceContainer('web3');
    const ip3 = await ipOf(PREFIX + 'web3');
    service = await podmanService();
    assert.deepEqual(await until((a) => a.length === 2), [ip2, ip3].sort());
  });

  test('a container whose port stops listening turns unhealthy after the threshold, leaves the answers, and comes back', async () => {
    // httpd without -f goes to the background, so the container keeps running when it is killed.
    await podman(
      'run',
      '-d',
      '--name',
      PREFIX + 'flaky',
      '--network',
      NET,
      '--dns',
      GATEWAY,
      '--label',
      'podswarm.service=flaky',
      '--label',
      'podswarm.namespace=e2e',
      '--label',
      'podswarm.ports=http:8080/tcp',
      IMAGE,
      'sh',
      '-c',
      'httpd -p 8080 -h /etc; exec sleep 3600',
    );
    const ip = await ipOf(PREFIX + 'flaky');
    const lookup = (): Promise<string> => client('nslookup -type=a flaky.e2e.cluster.local || true');
    const flakyApi = `http://127.0.0.1:${API_PORT}/api/v1/services/e2e/flaky/endpoints`;
    assert.deepEqual(await until((a) => a.length === 1, flakyApi), [ip]);
    assert.match(await lookup(), new RegExp(`Address: ${ip.replaceAll('.', '\\.')}\\b`));

    await podman('exec', PREFIX + 'flaky', 'killall', 'httpd');
    await server!.waitFor(new RegExp(`registry: endpoint ${PREFIX}flaky\\.flaky\\.e2e \\S+ \\([^)]+\\) is unhealthy: failing for`));
    const gone = await lookup();
    assert.doesNotMatch(gone, new RegExp(`Address: ${ip.replaceAll('.', '\\.')}\\b`), gone);
    const api = (await (await fetch(flakyApi)).json()) as Array<{ healthy: boolean }>;
    assert.deepEqual(
      api.map((e) => e.healthy),
      [false],
    );

    await podman('exec', PREFIX + 'flaky', 'httpd', '-p', '8080', '-h', '/etc');
    await server!.waitFor(new RegExp(`registry: endpoint ${PREFIX}flaky\\.flaky\\.e2e \\S+ \\([^)]+\\) is healthy`), 15_000);
    assert.match(await lookup(), new RegExp(`Address: ${ip.replaceAll('.', '\\.')}\\b`));
  });
});
