// Real `serf agent` processes for interop tests: start, stop, and read
// `serf members`; and podswarm-dns processes that join them as Serf members.
// A missing serf binary fails the test, never skips it.

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { type RunningServer, startServer } from './server.js';

const run = promisify(execFile);

export interface Agent {
  proc: ChildProcess;
  rpc: string;
  /** Runs serf commands where the agent runs, e.g. `['ip', 'netns', 'exec', NS]`. */
  prefix: string[];
  log: () => string;
}

export interface SerfMember {
  addr: string;
  status: string;
  tags: Record<string, string>;
}

const agents = new Set<Agent>();

/** `serf agent -profile=local` on `bind`, RPC on 127.0.0.1:`rpcPort` (under `prefix`, e.g. in a netns); resolves once it runs. */
export async function startSerf(name: string, bind: string, rpcPort: number, extra: string[] = [], prefix: string[] = []): Promise<Agent> {
  const rpc = `127.0.0.1:${rpcPort}`;
  const argv = [
    ...prefix,
    'serf',
    'agent',
    `-node=${name}`,
    `-bind=${bind}`,
    `-rpc-addr=${rpc}`,
    '-profile=local',
    ...(process.env.SERF_LOG_LEVEL ? [`-log-level=${process.env.SERF_LOG_LEVEL}`] : []),
    ...extra,
  ];
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const agent: Agent = { proc, rpc, prefix, log: () => out };
  agents.add(agent);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serf ${name} did not start:\n${out}`)), 5000);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run serf: ${err.message}`));
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serf ${name} exited with ${code}:\n${out}`));
    });
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('Serf agent running!')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
  });
  return agent;
}

export async function stopSerf(a: Agent, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  agents.delete(a);
  if (a.proc.exitCode !== null || a.proc.signalCode !== null) return;
  const exited = new Promise((r) => a.proc.once('exit', r));
  a.proc.kill(signal);
  await exited;
}

/** Kills every agent still running (for `after`/`afterEach`). */
export async function stopAllSerf(): Promise<void> {
  for (const a of [...agents]) await stopSerf(a);
}

export async function serfMembers(a: Agent): Promise<Map<string, SerfMember>> {
  const argv = [...a.prefix, 'serf', 'members', `-rpc-addr=${a.rpc}`];
  const { stdout } = await run(argv[0]!, argv.slice(1));
  const out = new Map<string, SerfMember>();
  for (const line of stdout.split('\n')) {
    const [name, addr, status, tags] = line.trim().split(/\s+/);
    if (!name || !status) continue;
    const t: Record<string, string> = {};
    for (const kv of (tags ?? '').split(',').filter(Boolean)) {
      const [k, v] = kv.split('=');
      t[k!] = v ?? '';
    }
    out.set(name, { addr: addr!, status, tags: t });
  }
  return out;
}

/** Polls `serf members` until `ok` holds; bounded by a deadline. */
export async function waitSerf(a: Agent, ok: (m: Map<string, SerfMember>) => boolean, what: string, timeoutMs = 15000): Promise<Map<string, SerfMember>> {
  const deadline = Date.now() + timeoutMs;
  let last = new Map<string, SerfMember>();
  while (Date.now() < deadline) {
    last = await serfMembers(a);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for serf: ${what}; last members: ${JSON.stringify([...last])}\n${a.log()}`);
}

/**
 * A podswarm-dns process named `name` that joins the cluster through `seed`
 * (`profile local`), gossiping on `ip`:`gossipPort` and answering DNS on
 * `ip`:`dnsPort`; resolves once it has joined.
 */
export async function startSerfMember(
  name: string,
  ip: string,
  ports: { gossip: number; dns: number },
  seed: string,
  args: string[] = [],
): Promise<RunningServer> {
  const corefile = `cluster.local:${ports.dns} {
    bind ${ip}
    gossip {
        bind ${ip}:${ports.gossip}
        join ${seed}
        profile local
    }
    cluster cluster.local
}
`;
  const s = await startServer({ corefile, args: ['-node', name, ...args] });
  await s.waitFor(/plugin\/gossip: joined the cluster/);
  return s;
}

export interface SerfCluster {
  agents: Agent[];
  ours: RunningServer[];
  stop(): Promise<void>;
}

/**
 * Serf agents s1 (the seed, on `ip(1)`) and s2 (`ip(2)`, RPC on the given
 * ports) and `count` podswarm-dns members p1, p2, ... on `ip(11)`, `ip(12)`,
 * ...; resolves once both agents list every one alive.
 */
export async function startSerfCluster(
  ip: (n: number) => string,
  ports: { gossip: number; dns: number; rpc: [number, number] },
  count: number,
  args: string[] = [],
): Promise<SerfCluster> {
  const seed = `${ip(1)}:${ports.gossip}`;
  const agents = [await startSerf('s1', seed, ports.rpc[0]), await startSerf('s2', `${ip(2)}:${ports.gossip}`, ports.rpc[1], [`-join=${seed}`])];
  const ours: RunningServer[] = [];
  for (let n = 1; n <= count; n++) ours.push(await startSerfMember(`p${n}`, ip(10 + n), ports, seed, args));
  const names = ['s1', 's2', ...ours.map((_, i) => `p${i + 1}`)];
  for (const a of agents) await waitSerf(a, (m) => names.every((n) => m.get(n)?.status === 'alive'), 'all alive', 20_000);
  return {
    agents,
    ours,
    async stop() {
      for (const s of ours.splice(0)) await s.stop('SIGKILL');
      await stopAllSerf();
    },
  };
}
