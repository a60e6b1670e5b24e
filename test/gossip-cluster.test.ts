// Three podswarm-dns processes, each in its own network namespace on a
// bridge (in a namespace of its own, so nothing touches the host network),
// each with its own registry file, gossiping through the Corefile `gossip`
// block: every node answers for every service, a killed node's endpoints
// leave the answers and come back on restart, a partition heals with no
// lost registrations. Needs root (`ip netns`); fails without it.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDig } from './helpers/dig.js';
import { eventually } from './helpers/eventually.js';
import { createLab, type Lab } from './helpers/netns.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { fastGossip } from './helpers/gossip-timing.js';

const SUBNET = '10.231.57';
const GOSSIP_PORT = 17860;
const METRICS_PORT = 17861;
const NODES = [1, 2, 3] as const;
type N = (typeof NODES)[number];
const dnsPort = (i: N): number => 17850 + i;
let lab: Lab | undefined;

/** Services each node registers in its own file: name → address. */
const services: Record<N, Record<string, string>> = {
  1: { svc1: '203.0.113.1' },
  2: { svc2: '203.0.113.2' },
  3: { svc3: '203.0.113.3' },
};
const servers = new Map<N, RunningServer>();

function registry(i: N): string {
  const list = Object.entries(services[i]).map(([name, address]) => `  - name: ${name}\n    endpoints:\n      - { address: ${address} }\n`);
  return `services:\n${list.join('')}`;
}

function corefile(i: N): string {
  const seeds = NODES.filter((j) => j !== i).map((j) => `${SUBNET}.${j}:${GOSSIP_PORT}`);
  return `cluster.local:${dnsPort(i)} {
    bind ${SUBNET}.${i}
    prometheus ${SUBNET}.${i}:${METRICS_PORT}
    gossip {
        bind ${SUBNET}.${i}:${GOSSIP_PORT}
        join ${seeds.join(' ')}
        ${fastGossip('        ')}
        gossip_to_the_dead 5s
        reconnect_interval 500ms
    }
    cluster cluster.local {
        registry {{dir}}/services.yaml
    }
}
`;
}

async function startNode(i: N): Promise<void> {
  const s = await startServer({ prefix: ['ip', 'netns', 'exec', lab!.ns(i)], corefile: corefile(i), files: { 'services.yaml': registry(i) }, args: ['-node', `n${i}`] });
  servers.set(i, s);
}

function register(i: N, name: string, address: string): void {
  services[i][name] = address;
  writeFileSync(join(servers.get(i)!.dir, 'services.yaml'), registry(i));
}

/** The A records node `i` answers for `<name>.default.cluster.local`, asked from inside its namespace. */
async function answers(i: N, name: string): Promise<string[]> {
  const out = await lab!.exec(i, 'dig', [`@${SUBNET}.${i}`, '-p', String(dnsPort(i)), `${name}.default.cluster.local`, 'A', '+norec', '+time=1', '+tries=1']);
  return parseDig(out)
    .answer.map((r) => r.data)
    .sort();
}

/** `podswarm_gossip_members` of node `i`: state → count. */
async function members(i: N): Promise<Record<string, number>> {
  const text = await lab!.exec(i, 'curl', ['-s', `http://${SUBNET}.${i}:${METRICS_PORT}/metrics`]);
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^podswarm_gossip_members\{state="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

async function waitAnswers(i: N, name: string, want: string[], why: string): Promise<void> {
  await eventually(() => answers(i, name), (a) => JSON.stringify(a) === JSON.stringify(want), `n${i}: ${name} → ${JSON.stringify(want)} (${why})`, 30_000, 200);
}

/** Every node answers for every registered service. */
async function converged(why: string): Promise<void> {
  const all = Object.assign({}, ...NODES.map((j) => services[j])) as Record<string, string>;
  for (const i of NODES) for (const [name, address] of Object.entries(all)) await waitAnswers(i, name, [address], why);
}

before(async () => {
  lab = await createLab(`g${process.pid}`, SUBNET, NODES.length);
  for (const i of NODES) await startNode(i);
});

after(async () => {
  for (const s of servers.values()) await s.stop('SIGKILL');
  await lab?.destroy();
});

describe('a cluster of three podswarm-dns processes', () => {
  it('answers for every node’s services on every node', async () => {
    await converged('initial sync');
  });

  it('serves a service registered on node 1 from node 3', async () => {
    register(1, 'late', '203.0.113.101');
    await waitAnswers(3, 'late', ['203.0.113.101'], 'registered on n1');
    await converged('after registering late');
  });

  it('drops a killed node’s endpoints, and serves them again after a restart', async () => {
    await servers.get(1)!.stop('SIGKILL');
    for (const i of [2, 3] as const) {
      await waitAnswers(i, 'svc1', [], 'n1 killed');
      await waitAnswers(i, 'late', [], 'n1 killed');
    }
    await startNode(1);
    await converged('n1 restarted');
  });

  it('forgets what a node no longer registers after it restarts', async () => {
    await servers.get(1)!.stop('SIGKILL');
    delete services[1].late;
    await startNode(1);
    await converged('n1 restarted without late');
    for (const i of NODES) await waitAnswers(i, 'late', [], 'n1 restarted without late');
  });

  it('heals a partition with no lost registrations', async () => {
    await lab!.cut(3);
    await waitAnswers(3, 'svc1', [], 'n3 cut off');
    await waitAnswers(1, 'svc3', [], 'n3 cut off');
    // long enough that both sides forget each other (gossip_to_the_dead): only reconnects can heal it
    await eventually(() => members(3), (m) => m.alive === 1 && m.dead === 0, 'n3 alone, the others forgotten');
    await eventually(() => members(1), (m) => m.alive === 2 && m.dead === 0, 'n1 has forgotten n3');
    // both sides keep registering while apart
    register(1, 'during1', '203.0.113.111');
    register(3, 'during3', '203.0.113.113');
    await waitAnswers(2, 'during1', ['203.0.113.111'], 'same side as n1');
    await waitAnswers(3, 'during3', ['203.0.113.113'], 'n3 own registration');
    await lab!.heal(3);
    await converged('partition healed');
  });
});
