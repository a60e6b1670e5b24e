// Health that follows what users declared, with real Podman (netavark, in a
// network namespace and a storage of the test's own: psw-h2-h<pid>) and two podswarm-dns
// nodes gossiping over the namespace's loopback. n1 follows Podman and
// checks; n2 learns everything by gossip.
//
// - A Podman HEALTHCHECK (--health-cmd): served only while libpod says
//   healthy. No systemd runs here, so Podman 4.3's health timers never fire
//   (`--health-interval` does nothing; podman logs "unable to get systemd
//   connection to add healthchecks"): the test drives each check with
//   `podman healthcheck run`, as the timer would.
// - A podswarm check (the default TCP check of the labels): not served
//   before its first pass; `podswarm.health.initially=healthy` opts out.
//
// Addresses: podman subnet 10.250.50.0/24, our DNS on 10.250.59.1/.2 (on
// the namespace's lo; every container gets --dns 10.250.59.1), gossip and
// API on the namespace's 127.0.0.1, ports 19200-19211.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, eventuallyAnswers } from './helpers/eventually.js';
import { fastGossip } from './helpers/gossip-timing.js';
import { createPodmanLab, type PodmanLab } from './helpers/podman-lab.js';
import { startServer, type RunningServer } from './helpers/server.js';

const NS = `psw-h2-h${process.pid}`;
const PREFIX = 'psw-h2-';
const NET = `${PREFIX}hnet`;
const DNS1 = '10.250.59.1';
const DNS2 = '10.250.59.2';
const IMAGE = 'localhost/busybox:latest';

function corefile(i: 1 | 2, extra: string): string {
  return `cluster.local:53 {
    bind ${i === 1 ? DNS1 : DNS2}
    gossip {
        bind 127.0.0.1:${19200 + i}
        join 127.0.0.1:19201 127.0.0.1:19202
        ${fastGossip('        ')}
    }
    ${extra}
    api { listen 127.0.0.1:${19209 + i} }
    cluster cluster.local
    srv cluster.local
}
`;
}

interface ApiEndpoint {
  name: string;
  address: string;
  healthy: boolean;
  health: { source: string; podman?: string; lastCheck?: { ok: boolean; since: string; error?: string } };
}

let lab: PodmanLab;
const nodes: RunningServer[] = [];

async function api(node: 1 | 2, service: string): Promise<ApiEndpoint[]> {
  const out = await lab.ns.exec('curl', ['-s', `http://127.0.0.1:${19209 + node}/api/v1/services/h2/${service}/endpoints`]);
  const body = JSON.parse(out) as ApiEndpoint[] | { error: string };
  return Array.isArray(body) ? body : [];
}

async function answers(server: string, name: string, type = 'A'): Promise<string[]> {
  return (await lab.ns.dig(server, name, type)).answer
    .filter((r) => r.type === type)
    .map((r) => r.data)
    .sort();
}

/** Until `name` answers `want` (A records) on both nodes. */
async function bothAnswer(name: string, want: string[]): Promise<void> {
  for (const server of [DNS1, DNS2]) {
    await eventuallyAnswers(() => answers(server, name), server, name, want, 'on both nodes', 10_000);
  }
}

/** `podman healthcheck run` (what the systemd timer would do); it exits 1 when the check fails. */
async function healthcheckRun(name: string): Promise<void> {
  await lab.podman('healthcheck', 'run', PREFIX + name).catch(() => {});
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

before(async () => {
  lab = await createPodmanLab(NS, IMAGE, [`${DNS1}/32`, `${DNS2}/32`]);
  await lab.podman('network', 'create', '--disable-dns', '--subnet', '10.250.50.0/24', NET);
  nodes.push(
    await startServer({
      prefix: ['ip', 'netns', 'exec', NS],
      args: ['-node', 'n1'],
      corefile: corefile(
        1,
        `podman {
        socket ${lab.socket}
    }
    healthcheck {
        interval 300ms
        threshold 1s
        timeout 300ms
    }`,
      ),
    }),
  );
  nodes.push(await startServer({ prefix: ['ip', 'netns', 'exec', NS], args: ['-node', 'n2'], corefile: corefile(2, '') }));
  await nodes[0]!.waitFor(/plugin\/podman: synced/);
});

after(async () => {
  for (const n of nodes) await n.stop();
  await lab?.destroy();
});

describe('a Podman HEALTHCHECK', { timeout: 120_000 }, () => {
  test('is served only while libpod says healthy, on both nodes; repeated results change nothing', async () => {
    const n1 = nodes[0]!;
    await lab.podman(
      'run',
      '-d',
      '--name',
      `${PREFIX}hc`,
      '--network',
      NET,
      '--dns',
      DNS1,
      '--label',
      'podswarm.service=hc',
      '--label',
      'podswarm.namespace=h2',
      '--label',
      'podswarm.ports=http:8080/tcp',
      '--health-cmd',
      'test -e /tmp/ok',
      '--health-retries',
      '1',
      IMAGE,
      'sleep',
      '3600',
    );
    const ip = await lab.ipOn(`${PREFIX}hc`, NET);
    const subject = `registry: endpoint psw-h2-hc\\.hc\\.h2 ${escape(ip)} \\(node n1, source podman:\\S+\\)`;
    await n1.waitFor(new RegExp(`${subject} registered, unhealthy`));
    // starting: not served, and no podswarm check of its own (Podman's is the one declared)
    const [starting] = await api(1, 'hc');
    assert.deepEqual([starting!.healthy, starting!.health], [false, { source: 'podman-healthcheck', podman: 'starting' }]);
    assert.deepEqual(await answers(DNS1, 'hc.h2.cluster.local'), []);

    await lab.podman('exec', `${PREFIX}hc`, 'touch', '/tmp/ok');
    await healthcheckRun('hc');
    await n1.waitFor(new RegExp(`${subject} is healthy: podman healthcheck: healthy`));
    await bothAnswer('hc.h2.cluster.local', [ip]);
    assert.deepEqual(
      (await lab.ns.dig(DNS2, '_http._tcp.hc.h2.cluster.local', 'SRV')).answer.map((r) => r.type),
      ['SRV'],
    );
    // Each run sends health_status again; only a change reaches the registry.
    await healthcheckRun('hc');
    await healthcheckRun('hc');

    await lab.podman('exec', `${PREFIX}hc`, 'rm', '/tmp/ok');
    await healthcheckRun('hc');
    await n1.waitFor(new RegExp(`${subject} is unhealthy: podman healthcheck: unhealthy`));
    await bothAnswer('hc.h2.cluster.local', []);
    assert.deepEqual(
      (await api(2, 'hc')).map((e) => [e.healthy, e.health]),
      [[false, { source: 'podman-healthcheck', podman: 'unhealthy' }]],
    );
    // The events are handled in order, so the two repeats were seen before the unhealthy one.
    assert.equal(n1.output().match(new RegExp(`${subject} is healthy`, 'g'))?.length, 1, n1.output());

    await lab.podman('exec', `${PREFIX}hc`, 'touch', '/tmp/ok');
    await healthcheckRun('hc');
    await bothAnswer('hc.h2.cluster.local', [ip]);
  });
});

describe('a podswarm check', { timeout: 120_000 }, () => {
  test('is not served until its first check passes', async () => {
    const n1 = nodes[0]!;
    // Listens only once the test says so (the file), so the first checks fail.
    await lab.podman(
      'run',
      '-d',
      '--name',
      `${PREFIX}ready`,
      '--network',
      NET,
      '--dns',
      DNS1,
      '--label',
      'podswarm.service=ready',
      '--label',
      'podswarm.namespace=h2',
      '--label',
      'podswarm.ports=http:8080/tcp',
      IMAGE,
      'sh',
      '-c',
      'until [ -e /tmp/go ]; do sleep 0.1; done; exec httpd -f -p 8080 -h /etc',
    );
    const ip = await lab.ipOn(`${PREFIX}ready`, NET);
    await n1.waitFor(new RegExp(`registry: endpoint psw-h2-ready\\.ready\\.h2 ${escape(ip)} \\(node n1, source podman:\\S+\\) registered, unhealthy`));
    const failing = await eventually(
      () => api(1, 'ready'),
      (l) => l[0]?.health.lastCheck?.ok === false,
      'a failed first check',
      10_000,
    );
    assert.equal(failing[0]!.healthy, false);
    assert.equal(failing[0]!.health.source, 'podswarm-check');
    assert.match(failing[0]!.health.lastCheck!.error!, /ECONNREFUSED/);
    assert.deepEqual(await answers(DNS1, 'ready.h2.cluster.local'), []);
    assert.deepEqual(await answers(DNS2, 'ready.h2.cluster.local'), []);

    await lab.podman('exec', `${PREFIX}ready`, 'touch', '/tmp/go');
    await n1.waitFor(/registry: endpoint psw-h2-ready\.ready\.h2 \S+ \([^)]+\) is healthy: check passed/);
    await bothAnswer('ready.h2.cluster.local', [ip]);
    const [passed] = await api(2, 'ready');
    assert.deepEqual([passed!.healthy, passed!.health.source, passed!.health.lastCheck?.ok], [true, 'podswarm-check', true]);
  });

  test('podswarm.health.initially=healthy serves it before the first check, until the threshold of failures', async () => {
    const n1 = nodes[0]!;
    await lab.podman(
      'run',
      '-d',
      '--name',
      `${PREFIX}eager`,
      '--network',
      NET,
      '--dns',
      DNS1,
      '--label',
      'podswarm.service=eager',
      '--label',
      'podswarm.namespace=h2',
      '--label',
      'podswarm.ports=http:8080/tcp',
      '--label',
      'podswarm.health.initially=healthy',
      IMAGE,
      'sleep',
      '3600',
    );
    const ip = await lab.ipOn(`${PREFIX}eager`, NET);
    await n1.waitFor(new RegExp(`registry: endpoint psw-h2-eager\\.eager\\.h2 ${escape(ip)} \\(node n1, source podman:\\S+\\) registered\\n`));
    await n1.waitFor(/registry: endpoint psw-h2-eager\.eager\.h2 \S+ \([^)]+\) is unhealthy: failing for [\d.]+s: connect \S+: connect ECONNREFUSED/);
    await bothAnswer('eager.h2.cluster.local', []);
  });
});
