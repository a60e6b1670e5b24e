// `podman network connect` and `disconnect` reach the registry although
// Podman 4.3 sends no event for them: the watcher compares a listing with
// what it knows every RESCAN_MS (5 s), so within that period (bounded here
// by 10 s, the promise). A second node with `network NAME` registers only
// that network's address.
//
// Real Podman (netavark) in a namespace and a storage of the test's own (psw-h2-n<pid>):
// networks 10.250.52.0/24 and 10.250.53.0/24 (no DNS: aardvark's config dir
// is shared), our DNS on 10.250.59.3/.4 on the namespace's lo (every
// container gets --dns 10.250.59.3), the API on the namespace's 127.0.0.1,
// ports 19220-19221.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually } from './helpers/eventually.js';
import { createPodmanLab, type PodmanLab } from './helpers/podman-lab.js';
import { startServer, type RunningServer } from './helpers/server.js';

const NS = `psw-h2-n${process.pid}`;
const PREFIX = 'psw-h2-';
const NET_A = `${PREFIX}na`;
const NET_B = `${PREFIX}nb`;
const DNS = ['10.250.59.3', '10.250.59.4'];
const IMAGE = 'localhost/busybox:latest';

let lab: PodmanLab;
const nodes: RunningServer[] = [];

function corefile(i: number, filter: string): string {
  return `cluster.local:53 {
    bind ${DNS[i]}
    podman {
        socket ${lab.socket}
        ${filter}
    }
    api { listen 127.0.0.1:${19220 + i} }
    cluster cluster.local
}
`;
}

async function addresses(node: number): Promise<string[]> {
  const out = await lab.ns.exec('curl', ['-s', `http://127.0.0.1:${19220 + node}/api/v1/services/nets/multi/endpoints`]);
  const body = JSON.parse(out) as Array<{ address: string }> | { error: string };
  return Array.isArray(body) ? body.map((e) => e.address).sort() : [];
}

async function until(node: number, want: string[], what: string, timeoutMs = 10_000): Promise<void> {
  await eventually(
    () => addresses(node),
    (a) => JSON.stringify(a) === JSON.stringify([...want].sort()),
    what,
    timeoutMs,
    200,
  );
}

before(async () => {
  lab = await createPodmanLab(
    NS,
    IMAGE,
    DNS.map((a) => `${a}/32`),
  );
  await lab.podman('network', 'create', '--disable-dns', '--subnet', '10.250.52.0/24', NET_A);
  await lab.podman('network', 'create', '--disable-dns', '--subnet', '10.250.53.0/24', NET_B);
  nodes.push(await startServer({ prefix: ['ip', 'netns', 'exec', NS], corefile: corefile(0, '') }));
  nodes.push(await startServer({ prefix: ['ip', 'netns', 'exec', NS], corefile: corefile(1, `network ${NET_B}`) }));
  for (const n of nodes) await n.waitFor(/plugin\/podman: synced/);
});

after(async () => {
  for (const n of nodes) await n.stop();
  await lab?.destroy();
});

test('network connect and disconnect are picked up within the re-inspect period', { timeout: 120_000 }, async () => {
  await lab.podman(
    'run',
    '-d',
    '--name',
    `${PREFIX}multi`,
    '--network',
    NET_A,
    '--dns',
    DNS[0]!,
    '--label',
    'podswarm.service=multi',
    '--label',
    'podswarm.namespace=nets',
    IMAGE,
    'sleep',
    '3600',
  );
  const a = await lab.ipOn(`${PREFIX}multi`, NET_A);
  await until(0, [a], 'the container on its first network');
  assert.deepEqual(await addresses(1), [], `not on ${NET_B}: nothing for the filtered node`);

  await lab.podman('network', 'connect', NET_B, `${PREFIX}multi`);
  const b = await lab.ipOn(`${PREFIX}multi`, NET_B);
  await until(0, [a, b], 'both addresses after network connect');
  await until(1, [b], `only the ${NET_B} address on the filtered node`);
  const answer = (await lab.ns.dig(DNS[0]!, 'multi.nets.cluster.local')).answer.map((r) => r.data).sort();
  assert.deepEqual(answer, [a, b].sort());

  await lab.podman('network', 'disconnect', NET_A, `${PREFIX}multi`);
  await until(0, [b], 'one address after network disconnect');
  // Off and on again at once, with another address: the network names never change, so only the
  // address comparison (every sixth rescan, 30 s) can see it.
  await lab.podman('network', 'disconnect', NET_B, `${PREFIX}multi`);
  await lab.podman('network', 'connect', '--ip', '10.250.53.200', NET_B, `${PREFIX}multi`);
  await until(0, ['10.250.53.200'], 'the new address after a quick reconnect', 40_000);
  await lab.podman('network', 'disconnect', NET_B, `${PREFIX}multi`);
  await until(1, [], 'nothing once off the filtered network');
});
