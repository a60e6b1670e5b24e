// `podman kube play` on two nodes: each node plays Kubernetes YAML (a
// Deployment on node 1, a bare Pod on node 2, the same headless Service on
// both), the kube plugin turns the Service and the node's matching pods into
// registry entries, gossip carries them across, and both nodes answer A, SRV
// (with the named targetPort resolved from the pod template) and per-pod
// names, each node listing its own pod first (`same_node first`); a pod
// whose probe has not passed is served only by a publishNotReadyAddresses
// Service until `podman healthcheck run` passes it. `podman
// kube down` takes a pod's records away on both nodes.
//
// Set-up: each node is a network namespace of a veth lab (10.250.186.0/24)
// with a Podman of its own (own --root, --runroot, --tmpdir and network
// config dir, netavark) run through nsenter, and a podswarm-dns bound to its
// lab address; dig runs inside the namespaces. Needs root.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLab, type Lab } from './helpers/netns.js';
import { parseDig, type DigResult } from './helpers/dig.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { eventually } from './helpers/eventually.js';
import { stopChild } from './helpers/podman-netns.js';
import { imageArchive, removeStorage, storageFlags } from './helpers/podman-storage.js';

const run = promisify(execFile);
const IMAGE = 'localhost/busybox:latest';
const TAG = `i18k${process.pid}`;
const NET = 'i18kube';

interface Node {
  i: number;
  dir: string;
  socket: string;
  yaml: string;
  service?: ChildProcess;
  server?: RunningServer;
}

const SERVICE = `apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  clusterIP: None
  selector: { app: web }
  ports:
    - { name: http, port: 80, targetPort: http, protocol: TCP }
    - { name: metrics, port: 9100, protocol: UDP }
`;

const POD_SPEC = `      containers:
        - name: httpd
          image: ${IMAGE}
          command: ["/bin/sleep", "600"]
          ports:
            - { name: http, containerPort: 8080 }`;

const YAML: Record<number, string> = {
  1: `apiVersion: apps/v1
kind: Deployment
metadata: { name: i18web }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
${POD_SPEC}
---
${SERVICE}`,
  2: `apiVersion: v1
kind: Pod
metadata: { name: i18webb, labels: { app: web } }
spec:
  hostname: webb
${POD_SPEC.replace(/^ {4}/gm, '')}
---
${SERVICE}`,
};

let lab: Lab;
const work = mkdtempSync(join(tmpdir(), 'i18-kube-'));
const nodes: Node[] = [1, 2].map((i) => ({ i, dir: join(work, `n${i}`), socket: join(work, `n${i}.sock`), yaml: join(work, `n${i}`, 'kube', 'app.yaml') }));

function storage(n: Node): string[] {
  return [...storageFlags(n.dir), '--network-backend', 'netavark'];
}

async function podman(n: Node, ...args: string[]): Promise<string> {
  try {
    return (await run('nsenter', [`--net=/run/netns/${lab.ns(n.i)}`, 'podman', ...storage(n), ...args], { timeout: 90_000 })).stdout.trim();
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`node ${n.i}: podman ${args.join(' ')} failed: ${[err.stdout?.trim(), err.stderr?.trim()].filter(Boolean).join('\n') || err.message}`);
  }
}

async function digOn(n: Node, name: string, type: string): Promise<DigResult> {
  return parseDig(await lab.exec(n.i, 'dig', [`@${lab.addr(n.i)}`, name, type, '+norec', '+time=2', '+tries=1']));
}

const sorted = (xs: string[]): string[] => [...xs].sort();

describe('podman kube play on two nodes: Services and pods to A, SRV and per-pod names, same node first', { timeout: 300_000 }, () => {
  const ip: Record<number, string> = {};

  before(async () => {
    lab = await createLab(TAG, '10.250.186', 2);
    const image = await imageArchive(IMAGE);
    for (const n of nodes) {
      mkdirSync(join(n.dir, 'kube'), { recursive: true });
      await podman(n, 'load', '-i', image);
      await podman(n, 'network', 'create', '--disable-dns', '--subnet', `10.250.${186 + n.i}.0/24`, NET);
      n.service = spawn('nsenter', [`--net=/run/netns/${lab.ns(n.i)}`, 'podman', ...storage(n), 'system', 'service', '--time', '0', `unix://${n.socket}`], {
        stdio: 'ignore',
      });
      await eventually(async () => existsSync(n.socket), Boolean, `node ${n.i}'s podman socket`, 20_000);
      writeFileSync(n.yaml, YAML[n.i]!);
      const join_ = n.i === 2 ? `join ${lab.addr(1)}:7946` : '';
      n.server = await startServer({
        prefix: ['ip', 'netns', 'exec', lab.ns(n.i)],
        args: ['-node', `node${n.i}`],
        corefile: `cluster.local:53 {
          bind ${lab.addr(n.i)}
          gossip {
            bind ${lab.addr(n.i)}:7946
            ${join_}
          }
          kube ${join(n.dir, 'kube')} {
            socket ${n.socket}
          }
          srv {
            same_node first
          }
          cluster {
            same_node first
          }
        }`,
      });
    }
  });

  after(async () => {
    for (const n of nodes) {
      await n.server?.stop();
      if (lab) await podman(n, 'pod', 'rm', '-af', '-t', '0').catch(() => {});
      if (lab) await podman(n, 'rm', '-af', '-t', '0').catch(() => {});
      if (lab) await podman(n, 'network', 'rm', '-f', NET).catch(() => {});
      if (lab) await podman(n, 'rmi', '-af').catch(() => {});
      await stopChild(n.service);
    }
    await lab?.destroy();
    await removeStorage(work);
  });

  test('both nodes answer A, SRV and per-pod names for the pods of both nodes', async () => {
    for (const n of nodes) await podman(n, 'kube', 'play', '--network', NET, n.yaml);
    ip[1] = await podman(nodes[0]!, 'inspect', '--format', `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`, 'i18web-pod-0-httpd');
    ip[2] = await podman(nodes[1]!, 'inspect', '--format', `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`, 'i18webb-httpd');
    const both = sorted([ip[1], ip[2]]);
    for (const n of nodes) {
      const a = await eventually(
        () => digOn(n, 'web.shop.svc.cluster.local', 'A'),
        (r) => r.answer.length === 2,
        `node ${n.i}: both pods`,
      );
      assert.deepEqual(
        a.answer.map((r) => r.data),
        n.i === 1 ? [ip[1], ip[2]] : [ip[2], ip[1]],
        `node ${n.i}: A, this node's pod first`,
      );
      assert.deepEqual(sorted((await digOn(n, 'web.shop.cluster.local', 'A')).answer.map((r) => r.data)), both, `node ${n.i}: short form`);
      const srv = await digOn(n, '_http._tcp.web.shop.svc.cluster.local', 'SRV');
      // same_node first: this node's pod gets priority 0, the other node's 1.
      const own = n.i === 1 ? 'i18web-pod-0' : 'webb';
      const theirs = n.i === 1 ? 'webb' : 'i18web-pod-0';
      assert.deepEqual(
        srv.answer.map((r) => r.data),
        [`0 50 8080 ${own}.web.shop.svc.cluster.local.`, `1 50 8080 ${theirs}.web.shop.svc.cluster.local.`],
        `node ${n.i}: SRV with the named targetPort's container port, this node's pod first`,
      );
      const udp = await digOn(n, '_metrics._udp.web.shop.svc.cluster.local', 'SRV');
      assert.deepEqual(sorted(udp.answer.map((r) => r.data.split(' ')[2]!)), ['9100', '9100'], `node ${n.i}: a numeric port defaults to port`);
      assert.deepEqual(
        (await digOn(n, 'i18web-pod-0.web.shop.svc.cluster.local', 'A')).answer.map((r) => r.data),
        [ip[1]],
        `node ${n.i}: the Deployment's pod by name`,
      );
      assert.deepEqual(
        (await digOn(n, 'webb.web.shop.svc.cluster.local', 'A')).answer.map((r) => r.data),
        [ip[2]],
        `node ${n.i}: spec.hostname names the pod`,
      );
    }
  });

  test('podman kube down removes the pod from both nodes', async () => {
    await podman(nodes[1]!, 'kube', 'down', nodes[1]!.yaml);
    for (const n of nodes) {
      const a = await eventually(
        () => digOn(n, 'web.shop.svc.cluster.local', 'A'),
        (r) => r.answer.length === 1,
        `node ${n.i}: node 2's pod gone`,
      );
      assert.deepEqual(
        a.answer.map((r) => r.data),
        [ip[1]],
      );
      assert.equal((await digOn(n, 'webb.web.shop.svc.cluster.local', 'A')).status, 'NXDOMAIN', `node ${n.i}: per-pod name gone`);
    }
  });

  test('publishNotReadyAddresses serves a pod whose probe has not passed yet; the probe passing serves it everywhere', async () => {
    const n = nodes[0]!;
    const file = join(n.dir, 'kube', 'slow.yaml');
    // kube play turns the livenessProbe into a Podman HEALTHCHECK, `starting` until it first runs.
    writeFileSync(
      file,
      `apiVersion: v1
kind: Pod
metadata: { name: i18slow, labels: { app: slow } }
spec:
  containers:
    - name: c
      image: ${IMAGE}
      command: ["/bin/sleep", "600"]
      livenessProbe:
        exec: { command: ["/bin/true"] }
        initialDelaySeconds: 300
        periodSeconds: 300
---
apiVersion: v1
kind: Service
metadata: { name: slow, namespace: shop }
spec: { clusterIP: None, selector: { app: slow } }
---
apiVersion: v1
kind: Service
metadata: { name: slowpub, namespace: shop }
spec: { clusterIP: None, selector: { app: slow }, publishNotReadyAddresses: true }
`,
    );
    await podman(n, 'kube', 'play', '--network', NET, file);
    const addr = await podman(n, 'inspect', '--format', `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`, 'i18slow-c');
    for (const m of nodes) {
      const pub = await eventually(
        () => digOn(m, 'slowpub.shop.svc.cluster.local', 'A'),
        (r) => r.answer.length === 1,
        `node ${m.i}: the not-ready pod published`,
      );
      assert.deepEqual(
        pub.answer.map((r) => r.data),
        [addr],
      );
      assert.equal((await digOn(m, 'slow.shop.svc.cluster.local', 'A')).status, 'NXDOMAIN', `node ${m.i}: not ready, not served`);
    }
    await podman(n, 'healthcheck', 'run', 'i18slow-c');
    for (const m of nodes) {
      const ready = await eventually(
        () => digOn(m, 'slow.shop.svc.cluster.local', 'A'),
        (r) => r.answer.length === 1,
        `node ${m.i}: the pod ready`,
      );
      assert.deepEqual(
        ready.answer.map((r) => r.data),
        [addr],
      );
    }
    await podman(n, 'kube', 'down', file);
    rmSync(file);
  });

  test('an edited file is re-read: a Service added to the YAML is answered', async () => {
    const n = nodes[0]!;
    writeFileSync(
      n.yaml,
      `${YAML[1]}---\napiVersion: v1\nkind: Service\nmetadata: { name: ext, namespace: shop }\nspec: { type: ExternalName, externalName: db.example.org }\n`,
    );
    const r = await eventually(
      () => digOn(n, 'ext.shop.svc.cluster.local', 'CNAME'),
      (x) => x.answer.length === 1,
      'the new ExternalName service',
    );
    assert.deepEqual(
      r.answer.map((x) => [x.type, x.data]),
      [['CNAME', 'db.example.org.']],
    );
  });
});
