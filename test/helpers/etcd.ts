// Real etcd members (Debian's etcd-server), each in a node namespace of a
// netns lab, with data directories of their own, so a member stopped and
// started again keeps its data as a restarted etcd does. Needs root and
// `etcd`/`etcdctl` (scripts/install-deps.sh); fails loudly without them.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import type { Lab } from './netns.js';

const CLIENT_PORT = 2379;
const PEER_PORT = 2380;

export interface EtcdCluster {
  /** Client URLs of every member, for the Corefile's `endpoint`. */
  readonly urls: string[];
  /** Stops member `m` (0-based; all when omitted) and waits for it to exit. */
  stop(m?: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts member `m` again (all when omitted) and waits until the cluster answers. */
  start(m?: number): Promise<void>;
  /** `etcdctl get --prefix` from inside the lab: key → value. */
  getPrefix(prefix: string): Promise<Map<string, string>>;
  /** `etcdctl ARGS` against the running members, from inside the lab; its stdout. */
  ctl(args: string[]): Promise<string>;
  /** Stops every member and removes their data. */
  destroy(): Promise<void>;
}

interface Member {
  name: string;
  node: number;
  addr: string;
  dataDir: string;
  proc: ChildProcess | undefined;
  exited: Promise<void> | undefined;
  output: string;
}

/** One member per lab node in `nodes` (e.g. `[4]` or `[4, 5, 6]`), started and answering. */
export async function startEtcd(lab: Lab, nodes: number[]): Promise<EtcdCluster> {
  const token = `podswarm-test-${process.pid}`;
  const members: Member[] = nodes.map((node, i) => ({
    name: `m${i}`,
    node,
    addr: lab.addr(node),
    dataDir: mkdtempSync(join(tmpdir(), 'podswarm-etcd-')),
    proc: undefined,
    exited: undefined,
    output: '',
  }));
  const initialCluster = members.map((m) => `${m.name}=http://${m.addr}:${PEER_PORT}`).join(',');
  const urls = members.map((m) => `http://${m.addr}:${CLIENT_PORT}`);
  const running = (): Member[] => members.filter((m) => m.proc);

  const ctl = async (args: string[]): Promise<string> => {
    const via = running()[0] ?? members[0]!;
    const endpoints = running().map((m) => `http://${m.addr}:${CLIENT_PORT}`);
    return lab.exec(via.node, 'etcdctl', [`--endpoints=${endpoints.join(',')}`, '--command-timeout=2s', ...args]);
  };

  const launch = (m: Member): void => {
    const proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        lab.ns(m.node),
        'etcd',
        '--name',
        m.name,
        '--data-dir',
        m.dataDir,
        '--listen-client-urls',
        `http://${m.addr}:${CLIENT_PORT}`,
        '--advertise-client-urls',
        `http://${m.addr}:${CLIENT_PORT}`,
        '--listen-peer-urls',
        `http://${m.addr}:${PEER_PORT}`,
        '--initial-advertise-peer-urls',
        `http://${m.addr}:${PEER_PORT}`,
        '--initial-cluster',
        initialCluster,
        '--initial-cluster-token',
        token,
        '--initial-cluster-state',
        'new',
        '--logger',
        'zap',
        '--log-outputs',
        'stderr',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (d: Buffer): void => {
      m.output = (m.output + d.toString()).slice(-20_000);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    m.proc = proc;
    m.exited = new Promise((resolve) =>
      proc.once('exit', () => {
        if (m.proc === proc) m.proc = undefined;
        resolve();
      }),
    );
  };

  const healthy = async (m: Member): Promise<void> => {
    try {
      await eventually(
        () =>
          lab.exec(m.node, 'etcdctl', [`--endpoints=http://${m.addr}:${CLIENT_PORT}`, '--command-timeout=1s', 'endpoint', 'health']).then(
            () => true,
            () => false,
          ),
        (ok) => ok || !m.proc,
        `etcd member ${m.name} healthy`,
        30_000,
        200,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\netcd ${m.name} output:\n${m.output}`);
    }
    if (!m.proc) throw new Error(`etcd member ${m.name} exited:\n${m.output}`);
  };

  const pick = (m: number | undefined): Member[] => (m === undefined ? members : [members[m]!]);

  const cluster: EtcdCluster = {
    urls,
    async stop(m, signal = 'SIGTERM') {
      for (const member of pick(m)) {
        member.proc?.kill(signal);
        await member.exited;
      }
    },
    async start(m) {
      const chosen = pick(m).filter((member) => !member.proc);
      for (const member of chosen) launch(member);
      for (const member of chosen) await healthy(member);
    },
    async getPrefix(prefix) {
      const out = await ctl(['get', '--prefix', prefix]);
      const lines = out.split('\n');
      const map = new Map<string, string>();
      for (let i = 0; i + 1 < lines.length; i += 2) map.set(lines[i]!, lines[i + 1]!);
      return map;
    },
    ctl,
    async destroy() {
      await cluster.stop(undefined, 'SIGKILL');
      for (const m of members) rmSync(m.dataDir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.start();
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}
