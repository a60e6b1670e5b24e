#!/usr/bin/env node
// Runs the test files in three groups (npm test runs it after the build):
//
//   parallel  every file not listed below, TEST_CONCURRENCY (default 4) at
//             a time: they wait on processes and the network far more than
//             they compute, and each takes its ports, addresses and names
//             from test/helpers/ports.ts and pid-named resources, so they
//             cannot collide.
//   serial    the files below, one at a time, alone: they load the machine
//             or share a host-wide resource, and hold a deadline that load
//             from their neighbours would break.
//   dgram     the DNS end-to-end files again with PODSWARM_UDP_IO=dgram (the
//             first two groups run the native batch path), in parallel.
//
//   node scripts/test.mjs [GROUP...]     all three groups, or those named
//
// Every group runs even when one before it failed; the exit status is 1 if
// any test failed.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Each with what it cannot share the machine with. */
const SERIAL = {
  'gossip-burst.test.ts': 'every node answers DNS probes at 50 Hz within 1 s during a 1,000-endpoint burst',
  'gossip-hostile.test.ts': 'dig answers every query within 1 s while a 20 MiB push/pull streams in',
  'gossip-serf-mixed.test.ts': '40 leave trials of serf agents and podswarm-dns nodes, each against the failure detector',
  'gossip-untrusted.test.ts': 'a 17 MB push/pull, whose reply races the node\'s reset of it when the CPU is short',
  'etcd-cluster.test.ts': 'etcd members (fsync, elections) and 3 s leases',
  'etcd-cluster3.test.ts': 'etcd members (fsync, elections) and 3 s leases',
  'udp-io.test.ts': 'floods the server with 200,000 datagrams and bounds its memory',
  'package.test.ts': 'npm ci and tsc of a copy of the tree',
  // The tests of the host's own Podman (its storage, its network configuration,
  // its drop-ins); those with a storage of their own (helpers/podman-lab.ts,
  // kube-play) run in parallel.
  'deploy.test.ts': "builds the image and runs it on the host's Podman",
  'podman-e2e.test.ts': "the host's Podman and CNI bridge",
  'podman-node.test.ts': 'writes /etc/containers/containers.conf.d, which every Podman on the host reads',
};

/** The DNS end-to-end files, run again on the node:dgram path. */
const DGRAM = [
  'dns-core', 'whoami-any-bufsize', 'cache-e2e', 'forward', 'negative-ttl', 'loadbalance', 'rewrite', 'acl', 'hosts', 'loop', 'workers',
].map((name) => `${name}.test.ts`);

const all = readdirSync(new URL('../test/', import.meta.url)).filter((f) => f.endsWith('.test.ts')).sort();
for (const f of [...Object.keys(SERIAL), ...DGRAM]) if (!all.includes(f)) throw new Error(`scripts/test.mjs lists test/${f}, which does not exist`);

const concurrency = Number(process.env.TEST_CONCURRENCY ?? 4);
const groups = {
  parallel: { files: all.filter((f) => !(f in SERIAL)), concurrency, udp: 'batch' },
  serial: { files: Object.keys(SERIAL).sort(), concurrency: 1, udp: 'batch' },
  dgram: { files: DGRAM, concurrency, udp: 'dgram' },
};

const asked = process.argv.slice(2);
for (const name of asked) if (!(name in groups)) throw new Error(`unknown group '${name}' (expected ${Object.keys(groups).join(', ')})`);

let failed = false;
for (const [name, g] of Object.entries(groups)) {
  if (asked.length > 0 && !asked.includes(name)) continue;
  console.log(`# group ${name}: ${g.files.length} files, ${g.concurrency} at a time, PODSWARM_UDP_IO=${g.udp}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${g.concurrency}`, ...g.files.map((f) => `test/${f}`)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, PODSWARM_UDP_IO: g.udp },
  });
  console.log(`# group ${name}: ${r.status === 0 ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s`);
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
