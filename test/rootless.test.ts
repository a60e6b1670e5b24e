// Rootless Podman and the node DNS: throwaway non-root users whose
// containers (slirp4netns, Podman 4.3's only rootless network here) resolve a
// cluster name through the real podswarm-dns bound to 169.254.20.10:53 on
// `lo`, with no --dns flag: once from the user's own containers.conf, once
// from only the system drop-in `podswarm-dns setup podman` writes. Everything
// runs in a network namespace the test creates, so that address exists only
// there, and Podman sees the test's drop-ins, not the machine's. Needs root,
// podman, uidmap, slirp4netns and the local busybox image
// (scripts/podman-image.sh); never skipped: when rootless Podman cannot run,
// the test fails with Podman's error. docs/rootless.md has the why.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as packet from 'dns-packet';
import { dnsSettings, DROPIN_NAME, renderDropin } from '../src/setup/containers-conf.js';
import { createNetns, type Netns } from './helpers/netns-one.js';
import { copyImage, createRootlessUser, type RootlessSetup, type RootlessUser } from './helpers/rootless.js';
import { query } from './helpers/raw.js';
import { startServer, type RunningServer } from './helpers/server.js';

const NODE_DNS = '169.254.20.10';
const IMAGE = 'localhost/busybox:latest';
const NAME = 'web.default.svc.cluster.local';
const ENDPOINTS = ['10.89.50.11', '10.89.50.12'];

// This VM's Podman needs (10-podswarm-dev.conf): runc, and explicit ulimits
// because CAP_SYS_RESOURCE is missing.
const DEV_CONF = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
`;

// A user's own ~/.config/containers/containers.conf, read after every system file.
const USER_CONF = `[containers]
dns_servers = ["${NODE_DNS}"]
dns_searches = ["svc.cluster.local", "cluster.local"]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
`;

const REGISTRY = `node: node1
services:
  - name: web
    namespace: default
    ports: [{ name: http, port: 80 }]
    endpoints:
${ENDPOINTS.map((a, i) => `      - { name: web-${i}, address: ${a} }`).join('\n')}
`;

/** busybox nslookup's answer records, `{ name, address }` each, in the order printed. */
function nslookupAnswers(out: string): Array<{ name: string; address: string }> {
  const recs: Array<{ name: string; address: string }> = [];
  let name: string | undefined;
  for (const line of out.split('\n')) {
    const n = /^Name:\s+(\S+)$/.exec(line);
    if (n) name = n[1];
    const a = /^Address:\s+(\S+)$/.exec(line);
    if (a && name) recs.push({ name, address: a[1]! });
  }
  return recs;
}

const sorted = (recs: Array<{ name: string; address: string }>) => [...recs].sort((x, y) => x.address.localeCompare(y.address));
const expected = ENDPOINTS.map((address) => ({ name: NAME, address }));

/** resolv.conf's nameserver and search lines (options, such as ndots, are the settings' business). */
function resolvConf(text: string): { nameservers: string[]; search: string[] } {
  const lines = text.split('\n').map((l) => l.trim().split(/\s+/));
  return { nameservers: lines.filter((l) => l[0] === 'nameserver').map((l) => l[1]!), search: lines.find((l) => l[0] === 'search')?.slice(1) ?? [] };
}

const NODE_RESOLV = { nameservers: [NODE_DNS], search: ['svc.cluster.local', 'cluster.local'] };

describe('rootless Podman reaches the node DNS on 169.254.20.10', { timeout: 300_000 }, () => {
  let ns: Netns;
  let server: RunningServer;
  before(async () => {
    ns = await createNetns(`psw-rootless-${process.pid}`, [`${NODE_DNS}/32`]);
    server = await startServer({
      corefile: `.:53 {\n  bind ${NODE_DNS}\n  log\n  cluster cluster.local {\n    registry {{dir}}/services.yaml\n  }\n}\n`,
      files: { 'services.yaml': REGISTRY },
      prefix: ['nsenter', `--net=${ns.path}`],
    });
  });
  after(async () => {
    await server?.stop();
    await ns?.destroy();
  });

  /** A user for the enclosing block with `setup`'s containers.conf files and the busybox image; removed after it. */
  const withUser = (tag: string, setup: RootlessSetup): { user(): RootlessUser; run(name: string, ...args: string[]): Promise<string> } => {
    let user: RootlessUser | undefined;
    before(async () => {
      user = await createRootlessUser(`pswtest${tag}${process.pid}`, ns.path, setup);
      await copyImage(user, IMAGE);
    });
    after(() => user?.destroy());
    return {
      user: () => user!,
      run: (name, ...args) => user!.podman('run', '--rm', '--name', `psw-rootless-${tag}${name}-${process.pid}`, ...args),
    };
  };

  /** The query for NAME from a container arrived at our server (its log line). */
  const queried = () => server.waitFor(new RegExp(`\\[INFO\\] \\S+:\\d+ - \\d+ "A IN ${NAME.replaceAll('.', '\\.')}\\. udp`));

  describe("the user's own ~/.config/containers/containers.conf", () => {
    const u = withUser('u', { userConf: USER_CONF, systemDropins: {} });

    it("the user's Podman is rootless, networked by slirp4netns", async () => {
      const info = JSON.parse(await u.user().podman('info', '--format', 'json')) as {
        host: { security: { rootless: boolean }; slirp4netns: { executable: string }; pasta?: unknown };
      };
      assert.equal(info.host.security.rootless, true);
      assert.equal(info.host.slirp4netns.executable, '/usr/bin/slirp4netns');
    });

    it('a container gets the node DNS and search list from it, no --dns flag', async () => {
      const out = await u.run('conf', IMAGE, 'sh', '-c', 'cat /etc/resolv.conf; echo ---; ip -4 -o addr show tap0');
      const [resolv, tap] = out.split('---\n');
      assert.deepEqual(resolvConf(resolv!), NODE_RESOLV);
      // slirp4netns's tap device and default guest address: the container really is on slirp4netns.
      assert.match(tap!, /tap0\s+inet 10\.0\.2\.100\/24/);
    });

    it('a container resolves a cluster name: slirp4netns relays the query to 169.254.20.10:53 on the host side', async () => {
      const out = await u.run('slirp', IMAGE, 'nslookup', '-type=a', NAME);
      assert.match(out, new RegExp(`^Server:\\s+${NODE_DNS.replaceAll('.', '\\.')}$`, 'm'));
      assert.deepEqual(sorted(nslookupAnswers(out)), expected, out);
      // slirp4netns sent it from a socket of its own on the host side (source: the
      // address it dialled), not as the container's 10.0.2.100.
      assert.match(await queried(), /^\[INFO\] 169\.254\.20\.10:\d+ /);
    });

    it('and over TCP, which slirp4netns relays too (a truncated answer needs it)', async () => {
      // busybox has no DNS client over TCP: nc carries the framed query, od shows the framed reply.
      const wire = query(NAME, 'A', { id: 4242 });
      const framed = Buffer.concat([Buffer.from([wire.length >> 8, wire.length & 0xff]), wire]);
      const octal = [...framed].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
      const out = await u.run('tcp', IMAGE, 'sh', '-c', `printf '%b' "$0" | nc ${NODE_DNS} 53 | od -An -v -tx1`, octal);
      const reply = Buffer.from(out.replace(/\s+/g, ''), 'hex');
      assert.equal(reply.readUInt16BE(0), reply.length - 2, out);
      const msg = packet.decode(reply.subarray(2));
      assert.equal(msg.id, 4242);
      assert.deepEqual(
        (msg.answers ?? []).map((r) => ({ name: r.name, type: r.type, data: (r as { data: string }).data })).sort((x, y) => x.data.localeCompare(y.data)),
        ENDPOINTS.map((data) => ({ name: NAME, type: 'A', data })),
      );
    });

    it("on --network host the container shares the caller's namespace and reaches the address directly", async () => {
      const out = await u.run('host', '--network', 'host', IMAGE, 'sh', '-c', `cat /etc/resolv.conf; echo ---; nslookup -type=a ${NAME}`);
      const [resolv, answer] = out.split('---\n');
      assert.deepEqual(resolvConf(resolv!).nameservers, [NODE_DNS]);
      assert.deepEqual(sorted(nslookupAnswers(answer!)), expected, out);
    });
  });

  describe('only the system drop-in that `podswarm-dns setup podman` writes (the user configures nothing)', () => {
    const u = withUser('s', { systemDropins: { '10-podswarm-dev.conf': DEV_CONF, [DROPIN_NAME]: renderDropin(dnsSettings([NODE_DNS])) } });

    it('a container gets the node DNS from /etc/containers/containers.conf.d and resolves a cluster name', async () => {
      const out = await u.run('dropin', IMAGE, 'sh', '-c', `cat /etc/resolv.conf; echo ---; nslookup -type=a ${NAME}`);
      const [resolv, answer] = out.split('---\n');
      assert.deepEqual(resolvConf(resolv!), NODE_RESOLV);
      assert.match(resolv!, /^options ndots:2$/m);
      assert.deepEqual(sorted(nslookupAnswers(answer!)), expected, out);
    });

    it('a short name resolves through the search list (libc getaddrinfo; busybox nslookup ignores search)', async () => {
      // ping resolves with the C library, which applies search and ndots; the
      // echo itself goes nowhere (the namespace has no route), hence `|| true`.
      const out = await u.run('short', IMAGE, 'sh', '-c', 'ping -c 1 -W 1 web.default || true');
      const resolved = /^PING web\.default \((\S+)\)/m.exec(out);
      assert.ok(resolved && ENDPOINTS.includes(resolved[1]!), out);
    });
  });
});
