// Gossip: how fast a registry change reaches every node, how fast a killed
// node's endpoints leave the answers, and gossip traffic per node. Memberlist
// LAN defaults throughout. Two set-ups, both inside network namespaces made
// here (nothing on the host network):
// - 3 podswarm-dns processes, one per namespace, asked with dig; traffic is
//   each node's veth counters.
// - 50 nodes simulated in one process (Memberlist + RegistryReplicator, one
//   Registry each) on 127.0.0.1-50 in a namespace of their own; traffic is
//   that namespace's loopback, divided by 50.
// Needs root and a build: npm run build && node --import tsx bench/gossip.ts [--quick]

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Memberlist } from '../src/gossip/memberlist.js';
import { RegistryReplicator } from '../src/replication/replicator.js';
import { Registry } from '../src/registry/registry.js';
import type { SourceSnapshot } from '../src/registry/types.js';
import { parseDig } from '../test/helpers/dig.js';
import { createLab } from '../test/helpers/netns.js';
import { startServer, type RunningServer } from '../test/helpers/server.js';
import { machine } from './lib/machine.js';
import { writeResult } from './lib/session.js';

const SELF = fileURLToPath(import.meta.url);
const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 2 : 5;
const KILLS = QUICK ? 1 : 3;
const TRAFFIC_S = QUICK ? 5 : 20;
const SIM_NODES = 50;
/** Endpoints registered on node 1, then as many spread over all nodes (sim). */
const BURSTS = QUICK ? [1000] : [1000, 6000];
const GOSSIP_PORT = 17960;
/** Polls of state that has no event we can await across processes; the resolution of the process figures. */
const POLL_MS = 10;

interface Stats {
  median: number;
  max: number;
  n: number;
}

function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)]!, max: s[s.length - 1]!, n: s.length };
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

// ------------------------------------------------------------ 3 processes

interface ProcessResult {
  propagate: Stats;
  kill: Stats;
  txPerNode: number;
  rxPerNode: number;
}

async function processes(): Promise<ProcessResult> {
  const subnet = '10.231.58';
  const nodes = [1, 2, 3];
  const lab = await createLab(`b${process.pid}`, subnet, nodes.length);
  const servers = new Map<number, RunningServer>();
  const files = new Map<number, Record<string, string>>(nodes.map((i) => [i, { [`svc${i}`]: `203.0.113.${i}` }]));
  const yaml = (i: number): string =>
    `services:\n${Object.entries(files.get(i)!)
      .map(([name, a]) => `  - name: ${name}\n    endpoints:\n      - { address: ${a} }\n`)
      .join('')}`;
  const start = async (i: number): Promise<void> => {
    const seeds = nodes.filter((j) => j !== i).map((j) => `${subnet}.${j}:${GOSSIP_PORT}`);
    const corefile = `cluster.local:17950 {\n  bind ${subnet}.${i}\n  gossip {\n    bind ${subnet}.${i}:${GOSSIP_PORT}\n    join ${seeds.join(' ')}\n  }\n  cluster cluster.local {\n    registry {{dir}}/services.yaml\n  }\n}\n`;
    servers.set(i, await startServer({ prefix: ['ip', 'netns', 'exec', lab.ns(i)], corefile, files: { 'services.yaml': yaml(i) }, args: ['-node', `n${i}`] }));
  };
  const answers = async (i: number, name: string): Promise<string[]> =>
    parseDig(await lab.exec(i, 'dig', [`@${subnet}.${i}`, '-p', '17950', `${name}.default.cluster.local`, '+norec', '+time=1', '+tries=1'])).answer.map(
      (r) => r.data,
    );
  const everywhere = (name: string, present: boolean, on = nodes) =>
    Promise.all(on.map((i) => until(async () => (await answers(i, name)).length > 0 === present, `${name} on n${i}`)));
  try {
    for (const i of nodes) await start(i);
    for (const i of nodes) await everywhere(`svc${i}`, true);

    const propagate: number[] = [];
    for (let k = 0; k < ROUNDS; k++) {
      files.get(1)![`new${k}`] = `203.0.113.${100 + k}`;
      const t0 = performance.now();
      writeFileSync(join(servers.get(1)!.dir, 'services.yaml'), yaml(1));
      await everywhere(`new${k}`, true);
      propagate.push(performance.now() - t0);
    }

    const t = async (): Promise<Array<{ tx: number; rx: number }>> => Promise.all(nodes.map((i) => lab.traffic(i)));
    const before = await t();
    await new Promise((r) => setTimeout(r, TRAFFIC_S * 1000));
    const after = await t();
    const txPerNode = after.reduce((s, a, i) => s + a.tx - before[i]!.tx, 0) / nodes.length / TRAFFIC_S;
    const rxPerNode = after.reduce((s, a, i) => s + a.rx - before[i]!.rx, 0) / nodes.length / TRAFFIC_S;

    const kill: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const t0 = performance.now();
      await servers.get(1)!.stop('SIGKILL');
      await everywhere('svc1', false, [2, 3]);
      kill.push(performance.now() - t0);
      await start(1);
      await everywhere('svc1', true);
    }
    return { propagate: stats(propagate), kill: stats(kill), txPerNode, rxPerNode };
  } finally {
    for (const s of servers.values()) await s.stop('SIGKILL');
    await lab.destroy();
  }
}

// ------------------------------------------------------------ 50 simulated nodes

interface Burst {
  endpoints: number;
  /** All of them registered on node 1 in one change → in every registry. */
  oneNodeMs: number;
  /** As many again spread over every node, all at once → in every registry. */
  allNodesMs: number;
  /** Loopback traffic per node while holding them, bytes/s. */
  holdTxPerNode: number;
}

interface SimResult {
  nodes: number;
  joinAll: number;
  bursts: Burst[];
  propagate: Stats;
  kill: Stats;
  txPerNode: number;
}

interface SimNode {
  ml: Memberlist;
  registry: Registry;
}

/** `count` endpoints of `prefix` services (50 each) in namespace `ns`, addresses counted from `base`. */
function many(ns: string, prefix: string, count: number, base: number, nodeName: string): SourceSnapshot {
  const now = Date.now();
  const endpoints = Array.from({ length: count }, (_, k) => {
    const n = base + k;
    return {
      namespace: ns,
      service: `${prefix}${Math.floor(k / 50)}`,
      name: `e${n}`,
      nodeName,
      address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      ports: [],
      healthy: true,
      updatedAt: now,
    };
  });
  return { services: [], endpoints };
}

const endpointsIn = (r: Registry, ns: string): number => r.services(ns).reduce((n, v) => n + v.endpoints.length, 0);

/** Endpoints name their node: replication refuses one that does not. */
function service(name: string, address: string, nodeName: string): SourceSnapshot {
  const now = Date.now();
  return { services: [], endpoints: [{ namespace: 'default', service: name, name: 'e0', nodeName, address, ports: [], healthy: true, updatedAt: now }] };
}

/** Resolves when `ok` holds on every node, checked on each registry change. */
function onAll(nodes: SimNode[], ok: (r: Registry) => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const pending = new Set(nodes.filter((n) => !ok(n.registry)));
    const listeners = new Map<SimNode, () => void>();
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      for (const [n, l] of listeners) n.registry.off('change', l);
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what} (${pending.size} nodes left)`)), timeoutMs);
    for (const n of pending) {
      const l = (): void => {
        if (!ok(n.registry)) return;
        pending.delete(n);
        n.registry.off('change', l);
        listeners.delete(n);
        if (pending.size === 0) finish();
      };
      listeners.set(n, l);
      n.registry.on('change', l);
    }
    if (pending.size === 0) finish();
  });
}

function loTxBytes(): number {
  const line = readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .find((l) => l.trim().startsWith('lo:'))!;
  return Number(line.split(':')[1]!.trim().split(/\s+/)[8]);
}

/** Runs inside its own namespace (see main); prints a SimResult as JSON. */
async function simulate(count: number): Promise<void> {
  const nodes: SimNode[] = [];
  const has = (name: string) => (r: Registry) => r.lookup('default', name) !== undefined;
  try {
    for (let i = 1; i <= count; i++) {
      const registry = new Registry();
      registry.setSource('file:sim', service(`sim${i}`, `203.0.113.${i}`, `sim${i}`));
      const replicator = new RegistryReplicator(registry, { name: `sim${i}`, bindAddr: `127.0.0.${i}`, bindPort: GOSSIP_PORT, tags: { role: 'podswarm-dns' } });
      replicator.start();
      const ml = replicator.ml;
      await ml.start();
      nodes.push({ ml, registry });
    }
    const t0 = performance.now();
    for (const n of nodes.slice(1)) await n.ml.join([`127.0.0.1:${GOSSIP_PORT}`]);
    await onAll(nodes, (r) => nodes.every((_, i) => has(`sim${i + 1}`)(r)), 'every service on every node');
    const joinAll = performance.now() - t0;

    const propagate: number[] = [];
    for (let k = 0; k < ROUNDS; k++) {
      const t = performance.now();
      nodes[0]!.registry.setSource(`file:new${k}`, service(`new${k}`, `203.0.113.${200 + k}`, 'sim1'));
      await onAll(nodes, has(`new${k}`), `new${k} everywhere`);
      propagate.push(performance.now() - t);
    }

    const tx0 = loTxBytes();
    await new Promise((r) => setTimeout(r, TRAFFIC_S * 1000));
    const txPerNode = (loTxBytes() - tx0) / count / TRAFFIC_S;

    const bursts: Burst[] = [];
    for (const size of BURSTS) {
      const ns = `burst${size}`;
      let t = performance.now();
      nodes[0]!.registry.setSource(`file:${ns}`, many(ns, 'one', size, 0, 'sim1'));
      await onAll(nodes, (r) => endpointsIn(r, ns) === size, `${size} endpoints of node 1 everywhere`);
      const oneNodeMs = performance.now() - t;
      const per = Math.floor(size / count);
      t = performance.now();
      nodes.forEach((n, i) => n.registry.setSource(`file:${ns}-spread`, many(ns, `n${i}x`, per, size + i * per, `sim${i + 1}`)));
      await onAll(nodes, (r) => endpointsIn(r, ns) === size + per * count, `${per * count} endpoints from every node everywhere`);
      const allNodesMs = performance.now() - t;
      const hold0 = loTxBytes();
      await new Promise((r) => setTimeout(r, TRAFFIC_S * 1000));
      bursts.push({ endpoints: size + per * count, oneNodeMs, allNodesMs, holdTxPerNode: (loTxBytes() - hold0) / count / TRAFFIC_S });
      for (const n of nodes) {
        n.registry.removeSource(`file:${ns}`);
        n.registry.removeSource(`file:${ns}-spread`);
      }
      await onAll(nodes, (r) => endpointsIn(r, ns) === 0, `burst of ${size} withdrawn everywhere`);
    }

    const kill: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const victim = nodes.pop()!;
      const t = performance.now();
      await victim.ml.shutdown();
      await onAll(nodes, (r) => !has(victim.ml.config.name)(r), `${victim.ml.config.name} gone`);
      kill.push(performance.now() - t);
    }
    const result: SimResult = { nodes: count, joinAll, bursts, propagate: stats(propagate), kill: stats(kill), txPerNode };
    process.stdout.write(JSON.stringify(result));
  } finally {
    for (const n of nodes) await n.ml.shutdown();
  }
}

async function simulated(): Promise<SimResult> {
  const lab = await createLab(`s${process.pid}`, '10.231.59', 1);
  try {
    const args = ['--import', 'tsx', SELF, '--sim', String(SIM_NODES), ...(QUICK ? ['--quick'] : [])];
    return JSON.parse(await lab.exec(1, process.execPath, args)) as SimResult;
  } finally {
    await lab.destroy();
  }
}

// ------------------------------------------------------------ report

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const row = (what: string, st: Stats): string => `| ${what} | ${s(st.median)} | ${s(st.max)} | ${st.n} |`;
const kib = (b: number): string => `${(b / 1024).toFixed(2)} KiB/s`;

async function main(): Promise<void> {
  const sim = process.argv.indexOf('--sim');
  if (sim >= 0) return simulate(Number(process.argv[sim + 1]));
  const m = machine();
  console.error('gossip bench: 3 processes…');
  const p = await processes();
  console.error(`gossip bench: ${SIM_NODES} simulated nodes…`);
  const n = await simulated();
  const text = `# Gossip${QUICK ? ' (quick)' : ''}

${m.date} · ${m.nproc} × ${m.cpuModel} · load ${m.loadAvg} · Linux ${m.kernel} · Node ${m.node}

Memberlist LAN defaults (probe 1 s, gossip 200 ms to 3 nodes, suspicion ×4, push/pull 30 s), every node
in network namespaces made for the run. \`bench/gossip.ts\`${QUICK ? ' --quick' : ''}.

## 3 podswarm-dns processes (one namespace each, asked with dig)

| | median | max | runs |
|---|---|---|---|
${row('registry file edited on n1 → answered by n1, n2 and n3', p.propagate)}
${row('n1 SIGKILLed → its service gone from n2 and n3', p.kill)}

Times include the registry file watch (50 ms debounce) and dig polling every ${POLL_MS} ms (a dig costs a few ms).
Gossip traffic per node while idle (veth counters, ${TRAFFIC_S} s): **${kib(p.txPerNode)} sent, ${kib(p.rxPerNode)} received**.

## ${n.nodes} nodes simulated in one process (127.0.0.1-${n.nodes} in one namespace)

| | median | max | runs |
|---|---|---|---|
${row('registry change on node 1 → in every registry', n.propagate)}
${row('node shut down without leaving → its service gone from every registry', n.kill)}

All ${n.nodes} joined through node 1 and held every node's service after ${s(n.joinAll)}.
Gossip traffic per node while idle (loopback counters / ${n.nodes}, ${TRAFFIC_S} s): **${kib(n.txPerNode)} sent**.
| endpoints held at the end | 1st half on node 1 in one change → everywhere | 2nd half from all ${n.nodes} nodes at once → everywhere | traffic per node while holding them |
|---:|---:|---:|---:|
${n.bursts.map((b) => `| ${b.endpoints} | ${s(b.oneNodeMs)} | ${s(b.allNodesMs)} | ${kib(b.holdTxPerNode)} |`).join('\n')}

The ${n.nodes} nodes share one process and one event loop, so each burst is ${n.nodes} nodes' work done one after the other:
compare rows with each other, not with the processes in \`gossip-scale\`.
Failure detection is SWIM's: a probe round (1 s), then suspicion of SuspicionMult × log10(n) × ProbeInterval,
shortened by confirmations from other nodes; a dead owner's entries leave the registry at once.
`;
  console.log(writeResult('gossip', QUICK, text));
  console.log(text);
}

await main();
