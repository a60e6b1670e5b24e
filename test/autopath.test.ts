// The search-path optimisation, measured with glibc: a client in a Podman
// container's network namespace, with Kubernetes' search list and ndots:5,
// runs `getent ahosts` (getaddrinfo, A and AAAA together) against two
// servers that differ only in `autopath`. The log plugin counts the queries
// each lookup sent; the answers must be the same, line for line.
//
// Set-up: a network namespace of this test with Podman (netavark) inside,
// one container labelled into namespace `shop` (so both servers know the
// client's namespace from libpod), both servers on addresses of the
// namespace's `lo` (the node address as containers reach it), and a dnsmasq
// upstream inside the namespace. Needs root.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPodmanLab, type PodmanLab } from './helpers/podman-lab.js';
import { dnsmasqIn, stopAllDnsmasq, type NetnsDnsmasq } from './helpers/dnsmasq.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { eventually } from './helpers/eventually.js';
import { pinBridgeMacs } from './helpers/podman-netns.js';

const run = promisify(execFile);
const NS = `i18ap${process.pid}`;
const NET = 'i18apnet';
const CLIENT = 'i18ap-client';
const WITH = '169.254.20.21';
const WITHOUT = '169.254.20.22';
const IMAGE = 'localhost/busybox:latest';

const REGISTRY = `services:
  - name: web
    namespace: other
    endpoints: [{ address: 10.0.72.1 }]
  - name: api
    namespace: shop
    endpoints: [{ address: 10.0.72.2 }]
`;

const corefile = (address: string, socket: string, autopath: boolean): string => `.:53 {
  bind ${address}
  log
  ${autopath ? 'autopath' : ''}
  podman {
    socket ${socket}
  }
  cache
  cluster {
    registry {{dir}}/services.yaml
  }
  forward . 127.0.0.1:53
}`;

describe('autopath: glibc with the Kubernetes search list, queries per lookup', { timeout: 180_000 }, () => {
  let lab: PodmanLab;
  let upstream: NetnsDnsmasq;
  const servers: Record<string, RunningServer> = {};
  const work = mkdtempSync(join(tmpdir(), 'i18-autopath-'));
  let pid = '';
  let clientIp = '';

  before(async () => {
    lab = await createPodmanLab(NS, IMAGE, [`${WITH}/32`, `${WITHOUT}/32`]);
    upstream = await dnsmasqIn(NS, '127.0.0.1', ['outside.example,203.0.113.81', 'dual.example,203.0.113.82,2001:db8::82']);
    await lab.podman('network', 'create', '--disable-dns', '--subnet', '10.250.189.0/24', NET);
    await lab.podman(
      'run',
      '-d',
      '--name',
      CLIENT,
      '--network',
      NET,
      '--label',
      'podswarm.service=client',
      '--label',
      'podswarm.namespace=shop',
      IMAGE,
      '/bin/sleep',
      '600',
    );
    await pinBridgeMacs(NS);
    pid = await lab.podman('inspect', '--format', '{{.State.Pid}}', CLIENT);
    clientIp = await lab.ipOn(CLIENT, NET);
    for (const [address, on] of [
      [WITH, true],
      [WITHOUT, false],
    ] as const) {
      servers[address] = await startServer({
        prefix: ['ip', 'netns', 'exec', NS],
        files: { 'services.yaml': REGISTRY },
        corefile: corefile(address, lab.socket, on),
      });
      await servers[address].waitFor(/synced 1 labelled container/);
    }
  });

  after(async () => {
    for (const s of Object.values(servers)) await s.stop();
    await upstream?.stop();
    stopAllDnsmasq();
    await lab?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  /** `getent ahosts NAME` in the container's network namespace with a Kubernetes resolv.conf naming `server`. */
  async function lookup(server: string, name: string): Promise<{ code: number; lines: string[]; queries: string[] }> {
    const conf = join(work, `resolv-${server}.conf`);
    writeFileSync(conf, `nameserver ${server}\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 attempts:1 timeout:2\n`);
    const s = servers[server]!;
    const before = s.output().length;
    let code = 0;
    let out = '';
    try {
      out = (
        await run('nsenter', [
          `--net=/proc/${pid}/ns/net`,
          'unshare',
          '--mount',
          'sh',
          '-c',
          `mount --bind ${conf} /etc/resolv.conf && exec getent ahosts ${name}`,
        ])
      ).stdout;
    } catch (e) {
      code = (e as { code: number }).code;
    }
    // The log line of a marker query from the same client comes after every line of the lookup.
    const marker = `marker-${Math.random().toString(36).slice(2)}.example`;
    await run('nsenter', [`--net=/proc/${pid}/ns/net`, 'dig', `@${server}`, marker, '+time=2', '+tries=1']).catch(() => {});
    await s.waitFor(new RegExp(marker.replace(/\./g, '\\.')));
    const logged = s.output().slice(before).split('\n');
    const queries = logged.filter((l) => l.includes(`${clientIp}:`) && l.includes(` IN ${name}.`)).map((l) => /"(\S+ IN \S+)/.exec(l)![1]!);
    return { code, lines: out.trim().split('\n').filter(Boolean).sort(), queries };
  }

  const cases: Array<[string, number, number]> = [
    // name, queries without, with
    ['outside.example', 8, 2],
    ['dual.example', 8, 2],
    ['web.other', 4, 2],
    ['api', 2, 2],
    ['nope.example', 8, 8],
  ];

  for (const [name, without, withOpt] of cases) {
    test(`${name}: ${without} queries without autopath, ${withOpt} with, the same answer`, async () => {
      const plain = await lookup(WITHOUT, name);
      const fast = await lookup(WITH, name);
      console.log(
        `${name}: without autopath ${plain.queries.length} queries (${plain.queries.join(', ')}); with ${fast.queries.length} (${fast.queries.join(', ')})`,
      );
      assert.equal(plain.queries.length, without, `without: ${plain.queries.join(', ')}`);
      assert.equal(fast.queries.length, withOpt, `with: ${fast.queries.join(', ')}`);
      assert.deepEqual([fast.code, fast.lines], [plain.code, plain.lines], 'identical getaddrinfo results');
      if (name !== 'nope.example') assert.ok(plain.lines.length > 0, 'the name resolves');
    });
  }

  test('a client whose namespace the node does not know is not optimised', async () => {
    // The host's side of the namespace (the lab's own lo) is no container.
    const out = await eventually(
      () => run('ip', ['netns', 'exec', NS, 'dig', `@${WITH}`, 'outside.example.shop.svc.cluster.local', 'A', '+time=2', '+tries=1']).then((r) => r.stdout),
      (o) => /status: /.test(o),
      'an answer',
    );
    assert.match(out, /status: NXDOMAIN/);
  });
});
