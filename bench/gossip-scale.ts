// Registry replication at cluster size (issue 14): podswarm-dns processes,
// one per network namespace made here, registering through each node's API,
// reported against node count and endpoint count:
//   burst-one   1,000 PUTs on one node: the API's rate, and how long after the
//               last PUT every node serves all of them
//   burst-all   E endpoints PUT across every node at once: how long until
//               every node serves all of them
//   dns         during both bursts a prober asks every node 50 times a second
//               (1 s timeout): timeouts, and p99 against the same prober's
//               idle p99 in the same run
//   hold        with the endpoints registered: idle gossip traffic per node
//               (veth counters), CPU and RSS per node
//   join        a fresh node joins: how long until it serves everything
// The harness itself runs inside the namespaces' bridge namespace (so it
// reaches every node without touching the host's network).
// `--backend etcd` measures the same with the etcd backend instead of gossip:
// one etcd member (Debian's etcd-server) in a namespace of its own.
// Needs root and a build:
//   npm run build && node --import tsx bench/gossip-scale.ts [--nodes 5,20] [--endpoints 1000,6000,20000] [--backend gossip|etcd] [--quick]

import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { p99, startProber } from '../test/helpers/dns-prober.js';
import { startEtcd } from '../test/helpers/etcd.js';
import { createLab } from '../test/helpers/netns.js';
import { startServer, type RunningServer } from '../test/helpers/server.js';
import { machine } from './lib/machine.js';
import { writeResult } from './lib/session.js';

const run = promisify(execFile);
const SELF = fileURLToPath(import.meta.url);
const SUBNET = '10.250.90';
const HARNESS = `${SUBNET}.254`;
const DNS_PORT = 1053;
const API_PORT = 8080;
const METRICS_PORT = 9153;
const GOSSIP_PORT = 7946;
const TOKEN = 'bench-token';
const PROBE_HZ = 50;
const PUT_CONCURRENCY = 16;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}
const QUICK = process.argv.includes('--quick');
const NODE_COUNTS = arg('--nodes', QUICK ? '5' : '5,20')
  .split(',')
  .map(Number);
const ENDPOINTS = arg('--endpoints', QUICK ? '1000' : '1000,6000,20000')
  .split(',')
  .map(Number);
const HOLD_S = QUICK ? 10 : 30;
const BACKEND = arg('--backend', 'gossip');
if (BACKEND !== 'gossip' && BACKEND !== 'etcd') throw new Error(`--backend: gossip or etcd, not ${BACKEND}`);
/** The etcd member's client URL (set for the harness by main). */
const ETCD_URL = process.env.GS_ETCD ?? '';

// ------------------------------------------------------------ nodes

interface Node {
  i: number;
  addr: string;
  server: RunningServer;
}

function corefile(i: number, seeds: string[]): string {
  const addr = `${SUBNET}.${i}`;
  return `cluster.local:${DNS_PORT} {
    bind ${addr}
    prometheus ${addr}:${METRICS_PORT}
    api {
        listen ${addr}:${API_PORT}
        token_file {{dir}}/token
        state off
    }
    ${
      BACKEND === 'etcd'
        ? `etcd {
        endpoint ${ETCD_URL}
    }`
        : `gossip {
        bind ${addr}:${GOSSIP_PORT}
        ${seeds.length > 0 ? `join ${seeds.join(' ')}` : ''}
    }`
    }
    cluster cluster.local
}
`;
}

async function startNode(i: number, seeds: number[]): Promise<Node> {
  const server = await startServer({
    prefix: ['ip', 'netns', 'exec', `${process.env.GS_TAG}-n${i}`],
    corefile: corefile(
      i,
      seeds.map((s) => `${SUBNET}.${s}:${GOSSIP_PORT}`),
    ),
    files: { token: TOKEN },
    args: ['-node', `n${i}`],
    env: { NODE_ENV: 'production' },
  });
  return { i, addr: `${SUBNET}.${i}`, server };
}

async function metric(n: Node, re: RegExp): Promise<number> {
  const text = await (await fetch(`http://${n.addr}:${METRICS_PORT}/metrics`)).text();
  return Number(re.exec(text)?.[1] ?? NaN);
}
const healthyEndpoints = (n: Node): Promise<number> => metric(n, /^podswarm_registry_endpoints\{healthy="true"\} (\d+)/m);
const aliveMembers = (n: Node): Promise<number> => metric(n, /^podswarm_gossip_members\{state="alive"\} (\d+)/m);
const etcdUp = (n: Node): Promise<number> => metric(n, /^podswarm_etcd_up (\d+)/m);

/** Polls (the only view from outside a process) until every node reports `want`; ms taken. */
async function untilAll(nodes: Node[], probe: (n: Node) => Promise<number>, want: number, what: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const done = new Set<number>();
  for (;;) {
    await Promise.all(nodes.filter((n) => !done.has(n.i)).map(async (n) => ((await probe(n).catch(() => NaN)) === want ? done.add(n.i) : undefined)));
    if (done.size === nodes.length) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what} (${done.size} of ${nodes.length} nodes)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ------------------------------------------------------------ load

async function put(n: Node, ns: string, svc: string, name: string, address: string): Promise<void> {
  const res = await fetch(`http://${n.addr}:${API_PORT}/api/v1/services/${ns}/${svc}/endpoints/${name}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ address, ports: [{ name: 'http', port: 8080, protocol: 'tcp' }] }),
  });
  await res.arrayBuffer();
  if (res.status !== 200 && res.status !== 201) throw new Error(`PUT on n${n.i}: ${res.status}`);
}

/** `count` PUTs on node n (endpoints e<base+k>, 50 per service); resolves with the PUT rate (/s) and failures. */
async function registerOn(n: Node, base: number, count: number): Promise<{ rate: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const k = base + next++;
      const address = `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
      await put(n, 'scale', `svc${Math.floor(k / 50)}`, `e${k}`, address).catch(() => failed++);
    }
  };
  await Promise.all(Array.from({ length: PUT_CONCURRENCY }, worker));
  return { rate: count / ((performance.now() - t0) / 1000), failed };
}

// ------------------------------------------------------------ per node

function cpuTicks(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}
async function vethBytes(i: number): Promise<number> {
  const read = async (what: string): Promise<number> =>
    Number(
      (await run('ip', ['netns', 'exec', `${process.env.GS_TAG}-n${i}`, 'cat', `/sys/class/net/${process.env.GS_TAG}v${i}/statistics/${what}_bytes`])).stdout,
    );
  return (await read('tx')) + (await read('rx'));
}

// ------------------------------------------------------------ one cluster size

interface Row {
  nodes: number;
  endpoints: number;
  burstOne?: { rate: number; failed: number; convergeMs: number };
  burstAll: { rate: number; failed: number; convergeMs: number };
  dns: { idleP99: number; burstP99: number; timeouts: number; sent: number };
  idleBytesPerS: { median: number; max: number };
  cpuPercent: { median: number; max: number };
  rss: { median: number; max: number };
  joinMs: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function cluster(size: number, endpoints: number, log: (s: string) => void): Promise<Row> {
  const nodes: Node[] = [];
  try {
    for (let i = 1; i <= size; i++) nodes.push(await startNode(i, i === 1 ? [] : [1]));
    if (BACKEND === 'etcd') await untilAll(nodes, etcdUp, 1, 'every node following etcd', 60_000);
    else await untilAll(nodes, aliveMembers, size, `${size} members alive`, 60_000);
    log(`  ${size} nodes up`);
    const probe = (): ReturnType<typeof startProber> =>
      startProber({ name: 'svc0.scale.cluster.local', port: DNS_PORT, hz: PROBE_HZ, targets: nodes.map((n) => n.addr) });
    const idle = probe();
    await new Promise((r) => setTimeout(r, 3000));
    const idleResult = await idle.stop();
    const prober = probe();
    let burstOne: Row['burstOne'];
    let done = 0;
    if (endpoints === ENDPOINTS[0]) {
      const one = await registerOn(nodes[0]!, 0, endpoints);
      const convergeMs = await untilAll(nodes, healthyEndpoints, endpoints, `${endpoints} endpoints from n1 everywhere`, 300_000);
      burstOne = { ...one, convergeMs };
      done = endpoints;
      log(`  burst-one: ${one.rate.toFixed(0)} PUT/s, everywhere ${convergeMs.toFixed(0)} ms after the last`);
    }
    const rest = endpoints * (burstOne ? 2 : 1) - done;
    const per = Math.floor(rest / size);
    const t0 = performance.now();
    const results = await Promise.all(nodes.map((n, k) => registerOn(n, 100_000 + k * per, per)));
    const allMs = await untilAll(nodes, healthyEndpoints, done + per * size, `${done + per * size} endpoints everywhere`, 600_000);
    const putMs = performance.now() - t0 - allMs;
    const burstAll = { rate: (per * size) / (putMs / 1000), failed: results.reduce((a, r) => a + r.failed, 0), convergeMs: allMs };
    log(`  burst-all: ${per * size} endpoints in ${(putMs / 1000).toFixed(1)} s, everywhere ${allMs.toFixed(0)} ms after the last`);
    const burst = await prober.stop();
    // hold: idle traffic, CPU, RSS
    const bytes0 = await Promise.all(nodes.map((n) => vethBytes(n.i)));
    const ticks0 = nodes.map((n) => cpuTicks(n.server.proc.pid!));
    const h0 = performance.now();
    await new Promise((r) => setTimeout(r, HOLD_S * 1000));
    const secs = (performance.now() - h0) / 1000;
    const bytes = (await Promise.all(nodes.map((n) => vethBytes(n.i)))).map((b, k) => (b - bytes0[k]!) / secs);
    const cpu = nodes.map((n, k) => (cpuTicks(n.server.proc.pid!) - ticks0[k]!) / secs);
    const rss = nodes.map((n) => rssMiB(n.server.proc.pid!));
    log(`  hold: ${(median(bytes) / 1024).toFixed(2)} KiB/s, ${median(cpu).toFixed(1)}% CPU, ${median(rss).toFixed(0)} MiB per node (median)`);
    // join
    const j0 = performance.now();
    const joiner = await startNode(size + 1, [1]);
    nodes.push(joiner);
    await untilAll([joiner], healthyEndpoints, done + per * size, 'the joining node has everything', 120_000);
    const joinMs = performance.now() - j0;
    log(`  join: ${joinMs.toFixed(0)} ms from start to everything`);
    return {
      nodes: size,
      endpoints: done + per * size,
      burstOne,
      burstAll,
      dns: { idleP99: p99(idleResult.latencies), burstP99: p99(burst.latencies), timeouts: burst.timeouts, sent: burst.sent },
      idleBytesPerS: { median: median(bytes), max: Math.max(...bytes) },
      cpuPercent: { median: median(cpu), max: Math.max(...cpu) },
      rss: { median: median(rss), max: Math.max(...rss) },
      joinMs,
    };
  } finally {
    await Promise.all(nodes.map((n) => n.server.stop('SIGKILL')));
    // the next size starts from an empty etcd, not from these nodes' keys waiting for their leases
    if (BACKEND === 'etcd') await run('etcdctl', [`--endpoints=${ETCD_URL}`, 'del', '--prefix', '/']);
  }
}

// ------------------------------------------------------------ report

function report(rows: Row[]): string {
  const m = machine();
  const f = (x: number, d = 0): string => (Number.isFinite(x) ? x.toFixed(d) : '—');
  const lines = [
    `# Registry replication at cluster size: ${BACKEND}${QUICK ? ' (quick)' : ''}`,
    '',
    `${m.date} · ${m.nproc} × ${m.cpuModel} · load ${m.loadAvg} · Linux ${m.kernel} · Node ${m.node}`,
    '',
    BACKEND === 'etcd'
      ? 'podswarm-dns processes, one per network namespace (veth to one bridge), the etcd backend on one etcd 3.4 member in a namespace of its own (lease 10 s), registering'
      : 'podswarm-dns processes, one per network namespace (veth to one bridge), memberlist LAN defaults, registering',
    `through each node's API (${PUT_CONCURRENCY} PUTs in flight per node), 50 endpoints per service. \`bench/gossip-scale.ts\`${BACKEND === 'etcd' ? ' --backend etcd' : ''}${QUICK ? ' --quick' : ''}.`,
    'All of them share the 2 cores with the harness: every figure is exaggerated, the trend is what counts.',
    '',
    '| nodes | endpoints | 1,000 PUTs on n1: PUT/s | → everywhere after the last | all nodes PUT at once: PUT/s (total) | → everywhere after the last | failed PUTs | DNS p99 idle → burst | DNS timeouts in bursts | idle traffic per node (median / max) | idle CPU per node (median / max) | RSS per node (median / max) | join → everything |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.nodes} | ${r.endpoints} | ${r.burstOne ? f(r.burstOne.rate) : ''} | ${r.burstOne ? `${f(r.burstOne.convergeMs)} ms` : ''} | ${f(r.burstAll.rate)} | ${f(r.burstAll.convergeMs)} ms | ${(r.burstOne?.failed ?? 0) + r.burstAll.failed} | ${f(r.dns.idleP99, 2)} → ${f(r.dns.burstP99, 2)} ms | ${r.dns.timeouts} of ${r.dns.sent} | ${f(r.idleBytesPerS.median / 1024, 2)} / ${f(r.idleBytesPerS.max / 1024, 2)} KiB/s | ${f(r.cpuPercent.median, 1)} / ${f(r.cpuPercent.max, 1)}% | ${f(r.rss.median)} / ${f(r.rss.max)} MiB | ${f(r.joinMs)} ms |`,
    );
  }
  lines.push(
    '',
    BACKEND === 'etcd'
      ? "Idle traffic is everything on the node's veth during the hold (lease keepalives, the watch streams, gRPC pings), in"
      : "Idle traffic is everything on the node's veth during the hold (gossip probes, push/pull, anti-entropy sums), in",
    'both directions. "Everywhere" is every node\'s `podswarm_registry_endpoints{healthy="true"}` reaching the total,',
    "polled every 50 ms. A row's endpoint count is what the cluster holds at the end; the 1,000 PUTs on n1 (first",
    'size only) come first and stay registered.',
  );
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------ main

async function inner(): Promise<void> {
  const rows: Row[] = [];
  for (const size of NODE_COUNTS) {
    for (const endpoints of ENDPOINTS) {
      console.error(`${BACKEND}-scale: ${size} nodes, ${endpoints} endpoints`);
      rows.push(await cluster(size, endpoints, (s) => console.error(s)));
    }
  }
  process.stdout.write(JSON.stringify(rows));
}

async function main(): Promise<void> {
  if (process.argv.includes('--inner')) return inner();
  const tag = `gs${process.pid % 1000}`;
  const most = Math.max(...NODE_COUNTS) + 1;
  // etcd, when measured, gets the namespace after the nodes'
  const lab = await createLab(tag, SUBNET, most + (BACKEND === 'etcd' ? 1 : 0));
  const etcd = BACKEND === 'etcd' ? await startEtcd(lab, [most + 1]) : undefined;
  try {
    await run('ip', ['-n', `${tag}-sw`, 'addr', 'add', `${HARNESS}/24`, 'dev', 'br0']);
    const child = spawn('ip', ['netns', 'exec', `${tag}-sw`, process.execPath, '--import', 'tsx', SELF, '--inner', ...process.argv.slice(2)], {
      env: { ...process.env, GS_TAG: tag, GS_ETCD: etcd?.urls[0] ?? '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    if (code !== 0) throw new Error(`the harness exited with ${code}`);
    const text = report(JSON.parse(out) as Row[]);
    console.log(text);
    console.log(`written to ${writeResult(`${BACKEND}-scale`, QUICK, text)}`);
  } finally {
    await etcd?.destroy();
    await lab.destroy();
  }
}

await main();
