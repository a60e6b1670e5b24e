// podswarm-dns nodes in a cluster with serf agents, where the serf agents are
// their only seeds (issue 15): registry changes reach every podswarm-dns node
// straight from their owner (20 of 20, with memberlist's push/pull too rare to
// help), both sides of a healed partition catch up, and the serf agents log
// no WARN about podswarm-dns traffic. Each node in its own network namespace;
// needs root and serf.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventuallyAnswers } from './helpers/eventually.js';
import { GossipLab } from './helpers/gossip-lab.js';
import { type Agent, startSerf, stopAllSerf, waitSerf } from './helpers/serf.js';

const SERF = [1, 2] as const;
const OURS = [3, 4, 5] as const;
const GOSSIP_PORT = 19411;
let lab: GossipLab;
const agents: Agent[] = [];

before(async () => {
  lab = await GossipLab.create({
    tag: `psw-sr${process.pid}`,
    subnet: '10.250.41',
    size: 5,
    dnsPort: 19412,
    gossipPort: GOSSIP_PORT,
    metricsPort: 19413,
    // memberlist's own push/pull once a minute: it carries no registry state, and must not be what delivers it
    gossip: () => [
      'profile local',
      'probe_interval 200ms',
      'probe_timeout 100ms',
      'suspicion_mult 3',
      'gossip_interval 50ms',
      'push_pull_interval 60s',
      'reconnect_interval 500ms',
    ],
    seeds: () => [...SERF],
  });
  for (const i of SERF) {
    const join = i === 1 ? [] : [`-join=${lab.addr(1)}:${GOSSIP_PORT}`];
    agents.push(await startSerf(`serf${i}`, `${lab.addr(i)}:${GOSSIP_PORT}`, 7373, ['-log-level=info', ...join], ['ip', 'netns', 'exec', lab.lab.ns(i)]));
  }
  for (const i of OURS) await lab.start(i, {});
  await waitSerf(agents[0]!, (m) => OURS.every((i) => m.get(`n${i}`)?.status === 'alive') && m.get('serf2')?.status === 'alive', 'every node alive');
});

after(async () => {
  await stopAllSerf();
  await lab?.destroy();
});

/** Every podswarm-dns node answers `name` with `want` (empty: NXDOMAIN or no records). */
async function everywhere(name: string, want: string[], why: string, nodes: readonly number[] = OURS): Promise<void> {
  for (const i of nodes) {
    await eventuallyAnswers(() => lab.answers(i, name), `n${i}`, name, want, why, 10_000, 50);
  }
}

describe('replication among podswarm-dns nodes seeded by serf agents', () => {
  it('delivers 20 changes out of 20 to every podswarm-dns node, straight from the owner', async () => {
    const registered = new Map<number, Record<string, string>>(OURS.map((i) => [i, {}]));
    const latencies: number[] = [];
    for (let k = 1; k <= 20; k++) {
      const owner = OURS[k % OURS.length]!;
      const mine = registered.get(owner)!;
      // every fourth change removes the owner's oldest service instead of adding one
      const removal = k % 4 === 0 && Object.keys(mine).length > 0;
      let name: string;
      if (removal) {
        name = Object.keys(mine)[0]!;
        delete mine[name];
      } else {
        name = `c${k}`;
        mine[name] = `203.0.113.${k}`;
      }
      const t0 = Date.now();
      lab.register(owner, mine);
      await everywhere(name, removal ? [] : [`203.0.113.${k}`], `change ${k} by n${owner}`);
      latencies.push(Date.now() - t0);
    }
    // for the reader; speed belongs in bench/ (bench/gossip-scale.ts)
    console.log(`# 20 changes seen by all three podswarm-dns nodes after ${latencies.join(', ')} ms`);
  });

  it('logs nothing on the serf agents about podswarm-dns traffic', () => {
    for (const a of agents) {
      const warnings = a
        .log()
        .split('\n')
        .filter((l) => /\[(WARN|ERR)\]/.test(l));
      assert.deepEqual(warnings, [], `serf log:\n${a.log()}`);
    }
  });

  it('catches up both sides of a healed partition', async () => {
    await lab.lab.cut(5);
    await waitSerf(agents[0]!, (m) => m.get('n5')?.status === 'failed', 'n5 failed while cut off');
    // changes on both sides while they cannot reach each other
    lab.register(3, { ...lab.services.get(3), p3: '203.0.113.103' });
    lab.register(5, { ...lab.services.get(5), p5: '203.0.113.105' });
    await everywhere('p3', ['203.0.113.103'], 'n3 change, same side', [3, 4]);
    await lab.lab.heal(5);
    await everywhere('p3', ['203.0.113.103'], 'n3 change after the heal');
    await everywhere('p5', ['203.0.113.105'], 'n5 change after the heal');
  });
});
