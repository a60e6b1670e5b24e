// podswarm-dns as a Serf member in a mixed cluster on loopback: two real serf
// agents (Debian serf 0.9.4), four podswarm-dns processes and a real Go
// memberlist node (helpers/go-memberlist). Serf's intents cross podswarm-dns
// nodes: a clean leave of a serf agent and of a podswarm-dns node shows as
// `left` on every serf agent, never `failed` first (20 trials each), and
// `serf force-leave` of a live podswarm-dns node is refuted. Serf queries
// are acked, filtered and relayed, and none of it makes a serf agent log a
// WARN or ERR. Ports and a 127.x.y.0/24 of our own from helpers/ports.ts.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startGoMemberlist, stopAllGoMemberlist } from './helpers/go-memberlist.js';
import { freePorts, loopbackBlock } from './helpers/ports.js';
import { type Agent, serfMembers, startSerf, startSerfMember, stopAllSerf, stopSerf, waitSerf } from './helpers/serf.js';
import type { RunningServer } from './helpers/server.js';

const run = promisify(execFile);
const [GOSSIP, DNS, RPC1, RPC2, RPC_LEAVER] = await freePorts(5);
const TRIALS = Number(process.env.TRIALS ?? 20);
const LOOPBACK = await loopbackBlock();
const ip = (n: number): string => `${LOOPBACK}.${n}`;
const SEED = `${ip(1)}:${GOSSIP}`;

const agents: Agent[] = [];
/** Every podswarm-dns process started, the leavers of the trials too: `after` stops what a failed trial left running. */
const ours: RunningServer[] = [];

async function startOurs(name: string, n: number): Promise<RunningServer> {
  const s = await startSerfMember(name, ip(n), { gossip: GOSSIP, dns: DNS }, SEED);
  ours.push(s);
  return s;
}

/** Waits until every serf agent lists `name` with `status`. */
async function onEveryAgent(name: string, status: string): Promise<void> {
  for (const a of agents) await waitSerf(a, (m) => m.get(name)?.status === status, `${name} ${status}`, 20_000);
}

/** What each serf agent logged about `name`, for a failed or surprising trial. */
function logAbout(name: string): string {
  return agents
    .map(
      (a) =>
        `${a.rpc}:\n${a
          .log()
          .split('\n')
          .filter((l) => l.includes(name))
          .join('\n')}`,
    )
    .join('\n');
}

/** The member events every serf agent logged for `name` (EventMemberJoin, EventMemberLeave, EventMemberFailed). */
function eventsFor(name: string): string[] {
  return agents.flatMap((a) => [...a.log().matchAll(new RegExp(`serf: (EventMember\\w+): ${name} `, 'g'))].map((m) => `${a.rpc} ${m[1]}`));
}

before(async () => {
  agents.push(await startSerf('s1', SEED, RPC1));
  agents.push(await startSerf('s2', `${ip(2)}:${GOSSIP}`, RPC2, [`-join=${SEED}`]));
  for (let i = 1; i <= 4; i++) await startOurs(`p${i}`, 10 + i);
  await startGoMemberlist({ name: 'g1', bind: `${ip(21)}:${GOSSIP}`, join: [SEED] });
  for (const name of ['s1', 's2', 'p1', 'p2', 'p3', 'p4', 'g1']) await onEveryAgent(name, 'alive');
});

after(async () => {
  for (const s of ours.splice(0)) await s.stop('SIGKILL');
  await stopAllGoMemberlist();
  await stopAllSerf();
});

describe('serf intents through podswarm-dns nodes', () => {
  it(`a serf agent's clean leave shows as left on every serf agent, ${TRIALS} of ${TRIALS}`, async () => {
    for (let k = 1; k <= TRIALS; k++) {
      const name = `sl${k}`;
      const leaver = await startSerf(name, `${ip(100 + k)}:${GOSSIP}`, RPC_LEAVER, [`-join=${SEED}`]);
      await onEveryAgent(name, 'alive');
      await run('serf', ['leave', `-rpc-addr=${leaver.rpc}`]);
      await stopSerf(leaver, 'SIGTERM');
      await onEveryAgent(name, 'left').catch((err: Error) => {
        throw new Error(`${err.message}\n${logAbout(name)}`);
      });
      const failedFirst = eventsFor(name).filter((e) => e.endsWith('EventMemberFailed'));
      if (failedFirst.length > 0) console.log(`# trial ${k}: ${failedFirst.join(', ')}, then left`, process.env.SERF_LOG_LEVEL ? logAbout(name) : '');
    }
  });

  it(`a podswarm-dns node's clean leave (SIGTERM) shows as left on every serf agent, ${TRIALS} of ${TRIALS}`, async () => {
    for (let k = 1; k <= TRIALS; k++) {
      const name = `pl${k}`;
      const leaver = await startOurs(name, 150 + k);
      await onEveryAgent(name, 'alive');
      assert.equal(await leaver.stop('SIGTERM'), 0);
      await onEveryAgent(name, 'left');
      assert.deepEqual(
        eventsFor(name).filter((e) => !e.endsWith('EventMemberJoin')),
        agents.map((a) => `${a.rpc} EventMemberLeave`),
        `trial ${k}`,
      );
    }
  });

  it('refutes `serf force-leave` of a live podswarm-dns node with a newer join intent', async () => {
    await run('serf', ['force-leave', `-rpc-addr=${agents[0]!.rpc}`, 'p2']);
    await onEveryAgent('p2', 'alive');
    // it stays a member: no leave or failure was ever reported for it
    assert.deepEqual(
      eventsFor('p2').filter((e) => !e.endsWith('EventMemberJoin')),
      [],
    );
    for (const a of agents) assert.equal((await serfMembers(a)).get('p2')?.status, 'alive');
  });
});

describe('serf queries through podswarm-dns nodes', () => {
  async function acks(...args: string[]): Promise<string[]> {
    const { stdout } = await run('serf', ['query', `-rpc-addr=${agents[0]!.rpc}`, '-format=json', '-timeout=3s', ...args, 'hello', '']);
    return (JSON.parse(stdout) as { Acks: string[] }).Acks.sort();
  }

  it('acks a query from every serf member, itself included, with relayed copies of the acks', async () => {
    // the Go memberlist node reads no serf messages
    assert.deepEqual(await acks('-relay-factor=2'), ['p1', 'p2', 'p3', 'p4', 's1', 's2']);
  });

  it('applies node and tag filters as serf does', async () => {
    assert.deepEqual(await acks('-node=p3', '-node=s2'), ['p3', 's2']);
    assert.deepEqual(await acks('-tag', 'role=^podswarm-d.s$'), ['p1', 'p2', 'p3', 'p4']);
  });
});

describe('serf agents after all of the above', () => {
  it('logged no WARN or ERR from gossip', () => {
    // agent.ipc may log a CLI client that hung up (serf query's timeout): not gossip
    for (const a of agents)
      assert.deepEqual(
        a
          .log()
          .split('\n')
          .filter((l) => /\[(WARN|ERR)\] (serf|memberlist):/.test(l)),
        [],
        a.rpc,
      );
  });
});
