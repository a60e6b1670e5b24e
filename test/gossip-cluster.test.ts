// Three podswarm-dns processes, each in its own network namespace on a
// bridge (in a namespace of its own, so nothing touches the host network),
// each with its own registry file, gossiping through the Corefile `gossip`
// block: the cluster DNS scenarios every registry backend passes alike
// (helpers/cluster-nodes.ts; etcd-cluster.test.ts runs them over etcd), and
// a partition that heals with no lost registrations. Needs root
// (`ip netns`); fails without it.

import { after, before, describe, it } from 'node:test';
import { ClusterNodes, NODES, type N, clusterScenarios } from './helpers/cluster-nodes.js';
import { eventually } from './helpers/eventually.js';
import { createLab, type Lab } from './helpers/netns.js';
import { fastGossip } from './helpers/gossip-timing.js';

const SUBNET = '10.231.57';
const GOSSIP_PORT = 17860;
const METRICS_PORT = 17861;
const dnsPort = (i: N): number => 17850 + i;
let lab: Lab | undefined;

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
    srv cluster.local
}
`;
}

const nodes = new ClusterNodes({ lab: () => lab!, dnsPort, corefile });

/** `podswarm_gossip_members` of node `i`: state → count. */
async function members(i: N): Promise<Record<string, number>> {
  const text = await lab!.exec(i, 'curl', ['-s', `http://${SUBNET}.${i}:${METRICS_PORT}/metrics`]);
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^podswarm_gossip_members\{state="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

before(async () => {
  lab = await createLab(`g${process.pid}`, SUBNET, NODES.length);
  for (const i of NODES) await nodes.start(i);
});

after(async () => {
  await nodes.stopAll();
  await lab?.destroy();
});

describe('a cluster of three podswarm-dns processes', () => {
  clusterScenarios(() => nodes, 'declared dead');

  it('heals a partition with no lost registrations', async () => {
    await lab!.cut(3);
    await nodes.waitAnswers(3, 'svc1', [], 'n3 cut off');
    await nodes.waitAnswers(1, 'svc3', [], 'n3 cut off');
    // long enough that both sides forget each other (gossip_to_the_dead): only reconnects can heal it
    await eventually(
      () => members(3),
      (m) => m.alive === 1 && m.dead === 0,
      'n3 alone, the others forgotten',
    );
    await eventually(
      () => members(1),
      (m) => m.alive === 2 && m.dead === 0,
      'n1 has forgotten n3',
    );
    // both sides keep registering while apart
    nodes.register(1, 'during1', '203.0.113.111');
    nodes.register(3, 'during3', '203.0.113.113');
    await nodes.waitAnswers(2, 'during1', ['203.0.113.111'], 'same side as n1');
    await nodes.waitAnswers(3, 'during3', ['203.0.113.113'], 'n3 own registration');
    await lab!.heal(3);
    await nodes.converged('partition healed');
  });
});
