// The Podman node, end to end, as a user sets it up: `podswarm-dns setup
// podman` on two nodes, servers started before any container exists, then
// containers started with no --dns flag find each other by name across the
// nodes, resolve outside names through the node, and `setup --undo` leaves
// the configuration exactly as it was.
//
// Set-up: each node is a network namespace of this test (a veth lab,
// 10.250.40.0/24) with a Podman of its own (own --root, --runroot and
// network config dir, netavark) run inside it through nsenter, so each
// node's podman plugin sees only its own containers, its bridges and the
// node address 169.254.20.10 exist only in its namespace, and no container
// can reach anything outside the lab. Node 1's network is DNS-enabled
// (aardvark-dns runs beside podswarm-dns there); node 2's is not. The drop-in
// setup writes is the real /etc/containers/containers.conf.d/50-podswarm-dns.conf,
// as a user gets it; the test removes it with --undo and checks the
// directory is byte for byte as before.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'smol-toml';
import { builtCli } from './helpers/dist.js';
import { createLab, type Lab } from './helpers/netns.js';
import { dnsmasqIn, stopAllDnsmasq, type NetnsDnsmasq } from './helpers/dnsmasq.js';
import { startCli, type RunningServer } from './helpers/server.js';
import { eventually } from './helpers/eventually.js';
import { podmanPrefix } from './helpers/podman-names.js';
import { digInContainer, pinBridgeMacs, stopChild } from './helpers/podman-netns.js';
import { imageArchive, removeStorage, storageFlags } from './helpers/podman-storage.js';
import { hostLock } from './helpers/ports.js';

const run = promisify(execFile);
const CLI = builtCli();
const IMAGE = 'localhost/busybox:latest';
const DROPIN_DIR = '/etc/containers/containers.conf.d';
const DROPIN = join(DROPIN_DIR, '50-podswarm-dns.conf');
const NODE_ADDRESS = '169.254.20.10';
const NODE_ADDRESS6 = 'fd00:53::10';
const OUTSIDE = 'outside.node-e2e.test';
const OUTSIDE_ADDR = '198.51.100.61'; // only ever an answer, never dialled
const TAG = `pn${process.pid}`;
const PREFIX = 'psw-node-';
/** aardvark-dns keeps its configuration per network name in one directory for every Podman on the host. */
const NET_PREFIX = podmanPrefix('psw-node');
const NETS = [
  { name: `${NET_PREFIX}net1`, subnet: '10.250.32.0/24', dns: true },
  { name: `${NET_PREFIX}net2`, subnet: '10.250.33.0/24', dns: false },
];
/** Node 1 only: a dual-stack network, whose containers reach the node over IPv6 as well. */
const NET6 = { name: `${NET_PREFIX}net6`, subnets: ['10.250.34.0/24', 'fd77:250:34::/64'] };

interface Node {
  i: number;
  dir: string;
  socket: string;
  corefile: string;
  service?: ChildProcess;
  server?: RunningServer;
  upstream?: NetnsDnsmasq;
}

let lab: Lab;
const work = mkdtempSync(join(tmpdir(), 'psw-node-'));
const nodes: Node[] = [1, 2].map((i) => ({ i, dir: join(work, `n${i}`), socket: join(work, `n${i}.sock`), corefile: join(work, `n${i}`, 'etc', 'Corefile') }));

/** podman as node `n` runs it: inside its namespace, on its own storage. */
async function podman(n: Node, ...args: string[]): Promise<string> {
  try {
    return (await run('nsenter', [`--net=/run/netns/${lab.ns(n.i)}`, 'podman', ...storage(n), ...args], { timeout: 60_000 })).stdout.trim();
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`node ${n.i}: podman ${args.join(' ')} failed: ${[err.stdout?.trim(), err.stderr?.trim()].filter(Boolean).join('\n') || err.message}`);
  }
}

function storage(n: Node): string[] {
  return [...storageFlags(n.dir), '--network-backend', 'netavark'];
}

/** `podswarm-dns setup ...` run as root inside node `n`'s namespace; exit code and output. */
async function setup(n: Node, args: string[], env: Record<string, string> = {}, wrap: string[] = []): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', lab.ns(n.i), ...wrap, process.execPath, CLI, 'setup', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.once('exit', (code) => resolve({ code: code ?? -1, out }));
  });
}

function setupArgs(n: Node): string[] {
  const gossip = ['--gossip', `${lab.addr(n.i)}:7946`, ...(n.i === 2 ? ['--join', `${lab.addr(1)}:7946`] : [])];
  return ['podman', ...gossip, '--address6', NODE_ADDRESS6, '--podman-socket', n.socket, '--corefile', n.corefile];
}

/** Every file in the drop-in directory with its bytes (undefined: no directory). */
function snapshot(): Record<string, string> | undefined {
  if (!existsSync(DROPIN_DIR)) return undefined;
  return Object.fromEntries(
    readdirSync(DROPIN_DIR)
      .sort()
      .map((f) => [f, readFileSync(join(DROPIN_DIR, f), 'utf8')]),
  );
}

async function loAddresses(n: Node): Promise<string[]> {
  const out = JSON.parse(await lab.exec(n.i, 'ip', ['-j', 'addr', 'show', 'dev', 'lo'])) as Array<{ addr_info: Array<{ local: string; label?: string }> }>;
  return out[0]!.addr_info.map((a) => `${a.local}${a.label ? ` ${a.label}` : ''}`);
}

/** A throwaway container with no --dns flag: its DNS is whatever setup configured. */
function client(n: Node, net: string, script: string, extra: string[] = []): Promise<string> {
  return podman(n, 'run', '--rm', '--network', net, ...extra, IMAGE, 'sh', '-c', script);
}

/** busybox nslookup's answer addresses, in order. */
function addresses(nslookup: string): string[] {
  const answer = nslookup.split(/\n\n/).slice(1).join('\n');
  return [...answer.matchAll(/^Address: (\S+)$/gm)].map((m) => m[1]!);
}

async function podmanService(n: Node): Promise<ChildProcess> {
  const p = spawn('nsenter', [`--net=/run/netns/${lab.ns(n.i)}`, 'podman', ...storage(n), 'system', 'service', '--time', '0', `unix://${n.socket}`], {
    stdio: 'ignore',
  });
  await eventually(async () => existsSync(n.socket), Boolean, `node ${n.i}'s podman socket`, 20_000, 100);
  return p;
}

describe('Podman node: setup, two nodes, no --dns flag', { timeout: 400_000 }, () => {
  let before0: Record<string, string> | undefined;
  let web = '';
  let releaseDropin: (() => Promise<void>) | undefined;

  before(async () => {
    // Every Podman on the host reads the drop-in: another suite running this test waits for this one.
    releaseDropin = await hostLock('containers.conf.d');
    if (existsSync(DROPIN)) throw new Error(`${DROPIN} already exists (an earlier run or a real node): run \`podswarm-dns setup podman --undo\` first`);
    before0 = snapshot();
    lab = await createLab(TAG, '10.250.40', 2);
    const image = await imageArchive(IMAGE);
    for (const n of nodes) {
      await podman(n, 'load', '-i', image);
      n.upstream = await dnsmasqIn(lab.ns(n.i), '127.0.0.1', [`${OUTSIDE},${OUTSIDE_ADDR}`]);
      n.service = await podmanService(n);
    }
    // Node 2's containers reach node 1's network through the lab (the route a cluster's hosts need).
    await lab.exec(2, 'ip', ['route', 'add', NETS[0]!.subnet, 'via', lab.addr(1)]);
  });

  after(async () => {
    for (const n of nodes) {
      await n.server?.stop();
      if (lab) await podman(n, 'rm', '-af', '-t', '0').catch(() => {});
      for (const net of NETS) if (lab) await podman(n, 'network', 'rm', '-f', net.name).catch(() => {});
      if (lab) await podman(n, 'rmi', '-af').catch(() => {});
      await stopChild(n.service);
      await n.upstream?.stop();
    }
    stopAllDnsmasq();
    // Never leave the drop-in behind: the host's own containers would get the node address.
    if (lab && existsSync(DROPIN)) await setup(nodes[0]!, ['podman', '--undo', '--corefile', nodes[0]!.corefile]);
    rmSync(DROPIN, { force: true });
    if (!before0 && existsSync(DROPIN_DIR) && readdirSync(DROPIN_DIR).length === 0) rmSync(DROPIN_DIR, { recursive: true });
    await lab?.destroy();
    await removeStorage(work);
    await releaseDropin?.();
  });

  test('bad input is refused with the reason, and nothing changes', async () => {
    const n = nodes[0]!;
    const cases: Array<[string, Promise<{ code: number; out: string }>, RegExp]> = [
      [
        'not root',
        setup(n, setupArgs(n), {}, ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups']),
        /^podswarm-dns setup: needs root: it adds the node address to lo/m,
      ],
      ['no podman', setup(n, setupArgs(n), {}, ['/usr/bin/env', 'PATH=/nonexistent']), /^podswarm-dns setup: podman is not installed \(no `podman` on PATH\)/m],
      [
        'CONTAINERS_CONF',
        setup(n, setupArgs(n), { CONTAINERS_CONF: '/etc/containers/containers.conf' }),
        /^podswarm-dns setup: CONTAINERS_CONF is set .*no drop-ins/m,
      ],
      // A private mount namespace shows this one process a broken drop-in directory; the machine's stays intact.
      [
        'unreadable config',
        setup(n, setupArgs(n), {}, [
          'unshare',
          '--mount',
          'sh',
          '-c',
          `mount -t tmpfs none ${DROPIN_DIR} && printf 'dns_servers = [\\n' > ${DROPIN_DIR}/40-broken.conf && exec "$0" "$@"`,
        ]),
        /^podswarm-dns setup: cannot read \/etc\/containers\/containers\.conf\.d\/40-broken\.conf: not valid TOML/m,
      ],
      [
        'overridden by a later drop-in',
        setup(n, setupArgs(n), {}, [
          'unshare',
          '--mount',
          'sh',
          '-c',
          `mount -t tmpfs none ${DROPIN_DIR} && printf '[containers]\\ndns_servers = ["10.0.0.53"]\\n' > ${DROPIN_DIR}/90-mine.conf && exec "$0" "$@"`,
        ]),
        /90-mine\.conf sets dns_servers, and Podman reads it after .*50-podswarm-dns\.conf/,
      ],
      [
        "a file of the user's at our path",
        setup(n, setupArgs(n), {}, ['unshare', '--mount', 'sh', '-c', `mount -t tmpfs none ${DROPIN_DIR} && echo '# mine' > ${DROPIN} && exec "$0" "$@"`]),
        /50-podswarm-dns\.conf exists and was not written by podswarm-dns setup: move it away first/,
      ],
      ['bad address', setup(n, ['podman', '--address', '127.0.0.9']), /--address: 127\.0\.0\.9 cannot be reached from containers/],
    ];
    for (const [what, p, want] of cases) {
      const r = await p;
      assert.notEqual(r.code, 0, `${what}: exit status`);
      assert.match(r.out, want, what);
    }
    assert.deepEqual(snapshot(), before0, 'the drop-in directory is unchanged');
    assert.equal(existsSync(n.corefile), false, 'no Corefile written');
    assert.ok(!(await loAddresses(n)).some((a) => a.startsWith(NODE_ADDRESS)), 'no node address on lo');
  });

  test('--dry-run prints the plan and changes nothing', async () => {
    const n = nodes[0]!;
    const r = await setup(n, [...setupArgs(n), '--dry-run']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^would \(--dry-run, nothing changed\):$/m);
    assert.match(r.out, new RegExp(`write ${DROPIN}:`));
    assert.match(r.out, /add 169\.254\.20\.10\/32 on lo \(label lo:podswarm\)/);
    assert.match(r.out, /bind 169\.254\.20\.10/);
    assert.deepEqual(snapshot(), before0);
    assert.equal(existsSync(n.corefile), false);
    assert.ok(!(await loAddresses(n)).some((a) => a.startsWith(NODE_ADDRESS)));
  });

  test('setup on both nodes; the servers start before any container exists', async () => {
    for (const n of nodes) {
      const r = await setup(n, setupArgs(n));
      assert.equal(r.code, 0, r.out);
      assert.ok((await loAddresses(n)).includes(`${NODE_ADDRESS} lo:podswarm`), `node ${n.i}: address on lo`);
    }
    // The drop-in Podman reads, key by key.
    for (const n of nodes) assert.ok((await loAddresses(n)).includes(NODE_ADDRESS6), `node ${n.i}: IPv6 address on lo`);
    const conf = parse(readFileSync(DROPIN, 'utf8')) as { containers: Record<string, string[]> };
    assert.deepEqual(
      { ...conf.containers },
      { dns_servers: [NODE_ADDRESS, NODE_ADDRESS6], dns_searches: ['svc.cluster.local', 'cluster.local'], dns_options: ['ndots:2'] },
    );
    // Idempotent: a second run changes nothing.
    const again = await setup(nodes[1]!, setupArgs(nodes[1]!));
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /^nothing to change: the node is set up$/m);
    assert.match(readFileSync(nodes[1]!.corefile, 'utf8'), /join 10\.250\.40\.1:7946/);

    for (const n of nodes) {
      n.server = await startCli(['-conf', n.corefile, '-node', `node${n.i}`, '-upstream-dns', '127.0.0.1:53'], {
        prefix: ['ip', 'netns', 'exec', lab.ns(n.i)],
      });
    }
    assert.equal(await podman(nodes[0]!, 'ps', '-aq'), '', 'no container exists yet');
  });

  test('the first container on a node resolves through it with no --dns flag', async () => {
    for (const [k, net] of NETS.entries()) {
      await podman(nodes[k]!, 'network', 'create', ...(net.dns ? [] : ['--disable-dns']), '--subnet', net.subnet, net.name);
    }
    const out = await client(nodes[0]!, NETS[0]!.name, `cat /etc/resolv.conf; nslookup -type=a ${OUTSIDE}`);
    assert.match(out, /^nameserver 169\.254\.20\.10$/m);
    assert.match(out, /^search svc\.cluster\.local cluster\.local/m);
    assert.deepEqual(addresses(out), [OUTSIDE_ADDR]);
    // netavark deleted the bridge with its last container; the node address is still there.
    assert.doesNotMatch(await lab.exec(1, 'ip', ['-o', 'addr']), /10\.250\.32\.1\//, 'bridge gone');
    assert.ok((await loAddresses(nodes[0]!)).includes(`${NODE_ADDRESS} lo:podswarm`));
  });

  test("node 2 finds node 1's labelled container by web.shop and web.shop.svc.cluster.local, and reaches it", async () => {
    const n1 = nodes[0]!;
    await podman(
      n1,
      'run',
      '-d',
      '--name',
      `${PREFIX}web`,
      '--network',
      NETS[0]!.name,
      '--label',
      'podswarm.service=web',
      '--label',
      'podswarm.namespace=shop',
      '--label',
      'podswarm.ports=http:8080/tcp',
      IMAGE,
      'sh',
      '-c',
      'echo hello-from-node1 > /tmp/index.html && exec httpd -f -p 8080 -h /tmp',
    );
    web = await podman(n1, 'inspect', '--format', `{{(index .NetworkSettings.Networks "${NETS[0]!.name}").IPAddress}}`, `${PREFIX}web`);
    assert.match(web, /^10\.250\.32\.\d+$/);
    // Node 1's bridge lives as long as web does: pin its MAC (see pinBridgeMacs) so the
    // containers that come and go next do not cost the long-lived ones their packets.
    await pinBridgeMacs(lab.ns(1));
    const n2 = nodes[1]!;
    // Gossip carries it to node 2; the API there shows it once it has arrived.
    await eventually(
      () => lab.exec(2, 'busybox', ['wget', '-qO-', 'http://127.0.0.1:8080/api/v1/services/shop/web/addresses']).catch(() => ''),
      (body) => body.includes(web),
      'web.shop on node 2',
    );
    const out = await client(n2, NETS[1]!.name, 'nslookup -type=a web.shop.svc.cluster.local; nslookup -type=a web.shop.cluster.local');
    assert.deepEqual(addresses(out), [web, web], out);
    assert.match(out, /^Name:\s+web\.shop\.svc\.cluster\.local$/m);
    // busybox nslookup asks for a name as written; wget resolves through libc, which applies the search list.
    for (const name of ['web.shop', 'web.shop.svc.cluster.local']) {
      const page = await client(n2, NETS[1]!.name, `timeout 10 wget -qO- http://${name}:8080/index.html`);
      assert.equal(page, 'hello-from-node1', name);
    }
    const outside = await client(n2, NETS[1]!.name, `nslookup -type=a ${OUTSIDE}`);
    assert.deepEqual(addresses(outside), [OUTSIDE_ADDR]);
  });

  test("Podman's own names keep working beside aardvark-dns, and a short name finds its own namespace", async () => {
    const n1 = nodes[0]!;
    const net = NETS[0]!;
    const gateway = net.subnet.replace(/0\/24$/, '1');
    // A container pointed at aardvark-dns, as containers started before setup are.
    await podman(n1, 'run', '-d', '--name', `${PREFIX}peer`, '--network', net.name, '--dns', gateway, IMAGE, 'sleep', '600');
    const peer = await podman(n1, 'inspect', '--format', `{{(index .NetworkSettings.Networks "${net.name}").IPAddress}}`, `${PREFIX}peer`);
    // aardvark-dns's answer to the peer (which asks it, from its own address), while each client below joins and leaves the network.
    const fromAardvark = async (name: string): Promise<string[]> =>
      (await digInContainer((...a) => podman(n1, ...a), `${PREFIX}peer`, gateway, name)).answer.filter((r) => r.type === 'A').map((r) => r.data);
    // busybox nslookup applies the search list to a one-label name and never asks it bare: the trailing dot does.
    for (const [name, ip] of [
      [`${PREFIX}peer.`, peer],
      [`${PREFIX}web.`, web],
      [`${PREFIX}web.dns.podman`, web],
    ] as const) {
      const ours = await client(n1, net.name, `nslookup -type=a ${name}`);
      assert.deepEqual(addresses(ours), [ip], `${name} from podswarm-dns: ${ours}`);
      // The peer, which still asks aardvark-dns, finds the container that asks us, and itself.
      assert.deepEqual(await fromAardvark(name), [ip], `${name} from aardvark-dns`);
    }
    // libc: search list first, then the bare name, answered by the containers plugin.
    assert.equal(await client(n1, net.name, `timeout 10 wget -qO- http://${PREFIX}web:8080/index.html`), 'hello-from-node1');
    // `web` from a container of namespace shop is web.shop (libc's search list, then the bare name).
    const page = await client(n1, net.name, 'timeout 10 wget -qO- http://web:8080/index.html', ['--label', 'podswarm.namespace=shop']);
    assert.equal(page, 'hello-from-node1');
  });

  test('a container on a dual-stack network reaches the node over IPv6 too', async () => {
    const n1 = nodes[0]!;
    await podman(n1, 'network', 'create', '--disable-dns', '--ipv6', ...NET6.subnets.flatMap((s) => ['--subnet', s]), NET6.name);
    const out = await client(n1, NET6.name, `cat /etc/resolv.conf; nslookup -type=a web.shop.svc.cluster.local ${NODE_ADDRESS6}`);
    assert.match(out, /^nameserver 169\.254\.20\.10\nnameserver fd00:53::10$/m);
    assert.match(out, /^Address:\s+\[fd00:53::10\]:53$/m, 'asked over IPv6');
    assert.deepEqual(addresses(out), [web]);
  });

  test('a container on a CNI network (a Podman on the CNI backend) resolves through the node too', async () => {
    const cni: Node = { i: 1, dir: join(work, 'cni'), socket: '', corefile: '' };
    const p = (...args: string[]): Promise<string> =>
      run(
        'nsenter',
        [
          `--net=/run/netns/${lab.ns(1)}`,
          'podman',
          '--root',
          join(cni.dir, 'root'),
          '--runroot',
          join(cni.dir, 'run'),
          '--tmpdir',
          join(cni.dir, 'tmp'),
          '--network-backend',
          'cni',
          '--cni-config-dir',
          join(cni.dir, 'cni'),
          ...args,
        ],
        { timeout: 60_000 },
      ).then(
        (r) => r.stdout.trim(),
        (e: { stderr?: string; message: string }) => {
          throw new Error(`cni podman ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
        },
      );
    try {
      await p('load', '-i', await imageArchive(IMAGE));
      await p('network', 'create', '--subnet', '10.250.35.0/24', `${NET_PREFIX}cni`);
      const out = await p(
        'run',
        '--rm',
        '--network',
        `${NET_PREFIX}cni`,
        IMAGE,
        'sh',
        '-c',
        'cat /etc/resolv.conf; ip -o -4 addr show eth0; nslookup -type=a web.shop.svc.cluster.local',
      );
      assert.match(out, /^nameserver 169\.254\.20\.10$/m);
      assert.match(out, /inet 10\.250\.35\.\d+\//, 'on the CNI bridge');
      assert.deepEqual(addresses(out), [web]);
    } finally {
      await p('network', 'rm', '-f', `${NET_PREFIX}cni`).catch(() => {});
      await p('rmi', '-af').catch(() => {});
    }
  });

  test('setup --undo leaves the configuration exactly as it was', async () => {
    for (const n of nodes) await n.server?.stop();
    for (const n of [...nodes].reverse()) {
      const r = await setup(n, ['podman', '--undo', '--corefile', n.corefile]);
      assert.equal(r.code, 0, r.out);
      assert.ok(!(await loAddresses(n)).some((a) => a.startsWith(NODE_ADDRESS)), `node ${n.i}: address gone`);
      assert.equal(existsSync(n.corefile), false, `node ${n.i}: Corefile gone`);
      assert.equal(existsSync(join(n.dir, 'etc')), false, `node ${n.i}: the directory setup created is gone`);
    }
    assert.deepEqual(snapshot(), before0);
    const again = await setup(nodes[0]!, ['podman', '--undo', '--corefile', nodes[0]!.corefile]);
    assert.match(again.out, /^nothing to change: nothing to undo$/m);
  });
});
