// Serf's name conflict resolution with podswarm-dns nodes in the cluster,
// against real serf agents (Debian serf) on loopback: when a packet claims a
// serf agent's name from another address, the agent asks the cluster
// `_serf_conflict` and stays only if most answers give its own address. The
// podswarm-dns nodes answer with their view of the member, as serf agents do,
// so they count in the vote (3 of 3 answers here; with acks only, 1 of 1).
// Ports 26170-26179, addresses 127.0.30.0/24.

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { encodeAlive } from '../src/gossip/messages.js';
import { encodeTags } from '../src/gossip/serf.js';
import { eventually } from './helpers/eventually.js';
import { type Agent, startSerf, stopAllSerf, waitSerf } from './helpers/serf.js';
import { startServer, type RunningServer } from './helpers/server.js';

const GOSSIP = 26170;
const DNS = 26175;
const ip = (n: number): string => `127.0.30.${n}`;
const SEED = `${ip(1)}:${GOSSIP}`;

const agents: Agent[] = [];
const ours: RunningServer[] = [];

before(async () => {
  agents.push(await startSerf('s1', SEED, 26171));
  agents.push(await startSerf('s2', `${ip(2)}:${GOSSIP}`, 26172, [`-join=${SEED}`]));
  for (const n of [1, 2]) {
    const s = await startServer({
      corefile: `cluster.local:${DNS} {
    bind ${ip(10 + n)}
    gossip {
        bind ${ip(10 + n)}:${GOSSIP}
        join ${SEED}
        profile local
    }
    cluster cluster.local
}
`,
      args: ['-node', `p${n}`],
    });
    await s.waitFor(/plugin\/gossip: joined the cluster/);
    ours.push(s);
  }
  for (const a of agents) await waitSerf(a, (m) => ['s1', 's2', 'p1', 'p2'].every((n) => m.get(n)?.status === 'alive'), 'all alive', 20_000);
});

after(async () => {
  for (const s of ours.splice(0)) await s.stop('SIGKILL');
  await stopAllSerf();
});

describe("serf's name conflict query", () => {
  it('is answered by podswarm-dns nodes with their view of the member: the serf agent keeps its name, 3 of 3 votes', async () => {
    const s1 = agents[0]!;
    const impostor = encodeAlive({ incarnation: 1, node: 's1', addr: Buffer.from([127, 0, 30, 99]), port: GOSSIP, meta: encodeTags({}), vsn: Buffer.from([1, 5, 2, 2, 5, 4]) });
    const sock = createSocket('udp4');
    await new Promise<void>((resolve, reject) => sock.send(impostor, GOSSIP, ip(1), (err) => (err ? reject(err) : resolve())));
    sock.close();
    const verdict = /serf: (?:majority|minority) in name conflict resolution \[\d+ \/ \d+\]/;
    await eventually(async () => s1.log(), (log) => verdict.test(log), 's1 to resolve the conflict', 15_000);
    assert.equal(verdict.exec(s1.log())![0], 'serf: majority in name conflict resolution [3 / 3]', s1.log());
    // and it is still a member everywhere
    for (const a of agents) await waitSerf(a, (m) => m.get('s1')?.status === 'alive', 's1 alive');
  });
});
