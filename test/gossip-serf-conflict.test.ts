// Serf's name conflict resolution with podswarm-dns nodes in the cluster,
// against real serf agents (Debian serf) on loopback: when a packet claims a
// serf agent's name from another address, the agent asks the cluster
// `_serf_conflict` and stays only if most answers give its own address. The
// podswarm-dns nodes answer with their view of the member, as serf agents do,
// so they count in the vote (3 of 3 answers here; with acks only, 1 of 1).
// Ports and a loopback block from helpers/ports.ts.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeAlive } from '../src/gossip/messages.js';
import { encodeTags } from '../src/gossip/serf.js';
import { eventually } from './helpers/eventually.js';
import { freePorts, loopbackBlock } from './helpers/ports.js';
import { sendDatagram } from './helpers/raw.js';
import { type SerfCluster, startSerfCluster, waitSerf } from './helpers/serf.js';

const [GOSSIP, DNS, RPC1, RPC2] = await freePorts(4);
const LOOPBACK = await loopbackBlock();
const ip = (n: number): string => `${LOOPBACK}.${n}`;

let cluster: SerfCluster;

before(async () => {
  cluster = await startSerfCluster(ip, { gossip: GOSSIP, dns: DNS, rpc: [RPC1, RPC2] }, 2);
});

after(() => cluster?.stop());

describe("serf's name conflict query", () => {
  it('is answered by podswarm-dns nodes with their view of the member: the serf agent keeps its name, 3 of 3 votes', async () => {
    const s1 = cluster.agents[0]!;
    const impostor = encodeAlive({
      incarnation: 1,
      node: 's1',
      addr: Buffer.from([127, 0, 30, 99]),
      port: GOSSIP,
      meta: encodeTags({}),
      vsn: Buffer.from([1, 5, 2, 2, 5, 4]),
    });
    await sendDatagram(ip(1), GOSSIP, impostor);
    const verdict = /serf: (?:majority|minority) in name conflict resolution \[\d+ \/ \d+\]/;
    await eventually(
      async () => s1.log(),
      (log) => verdict.test(log),
      's1 to resolve the conflict',
      15_000,
    );
    assert.equal(verdict.exec(s1.log())![0], 'serf: majority in name conflict resolution [3 / 3]', s1.log());
    // and it is still a member everywhere
    for (const a of cluster.agents) await waitSerf(a, (m) => m.get('s1')?.status === 'alive', 's1 alive');
  });
});
