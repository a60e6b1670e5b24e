// A burst of registrations on one node of five (issue 14): 1,000 endpoints
// appear in one node's registry file at once, then are changed, then go.
// Every node converges on each step, and DNS keeps answering on every node
// throughout: a prober in each node's namespace asks its node 50 times a
// second and no query may go unanswered. (The sizes of bench/gossip-scale.ts
// are for the benchmark; this is the CI-sized check.) Needs root.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ProbeResult, startProber } from './helpers/dns-prober.js';
import { eventually } from './helpers/eventually.js';
import { GossipLab } from './helpers/gossip-lab.js';

const NODES = [1, 2, 3, 4, 5] as const;
const BURST = 1000;
const DNS_PORT = 19421;
let lab: GossipLab;

before(async () => {
  lab = await GossipLab.create({
    tag: `psw-gb${process.pid}`,
    subnet: '10.250.42',
    size: NODES.length,
    dnsPort: DNS_PORT,
    gossipPort: 19422,
    metricsPort: 19423,
    // Changes spread as fast as in the other gossip tests, but failure detection is memberlist's local profile
    // (1 s probes, 500 ms timeout): on a loaded two-core machine the 100 ms probe timeout of fastGossip declared
    // live nodes dead, and a dead owner's endpoints leave the answers at once (keep_dead 0), which is not what
    // this test is about.
    gossip: () =>
      ['profile local', 'probe_interval 1s', 'probe_timeout 500ms', 'suspicion_mult 4', 'gossip_interval 50ms', 'push_pull_interval 60s'].map((l, i) =>
        i === 0 ? l : `        ${l}`,
      ),
    seeds: (i) => (i === 1 ? [] : [1]),
  });
  for (const i of NODES) await lab.start(i, { anchor: `203.0.113.${i}` });
  for (const i of NODES)
    await eventually(
      () => endpoints(i),
      (n) => n === NODES.length,
      `n${i} has every anchor`,
      30_000,
    );
});

after(async () => {
  if (process.env.PSW_LAB_LOG) for (const [i, srv] of lab.servers) console.error(`==== n${i}\n${srv.output()}`);
  await lab?.destroy();
});

/** Healthy endpoints node i serves, from its metrics. */
async function endpoints(i: number): Promise<number> {
  return Number(/^podswarm_registry_endpoints\{healthy="true"\} (\d+)/m.exec(await lab.metrics(i).catch(() => ''))?.[1] ?? -1);
}

/** `count` services b0..b(count-1), one endpoint each, in 10.99.x.y (`shift` moves every address). */
function burst(count: number, shift = 0): Record<string, string> {
  const out: Record<string, string> = { anchor: '203.0.113.1' };
  for (let k = 0; k < count; k++) out[`b${k}`] = `10.99.${(k + shift) >> 8}.${(k + shift) & 255}`;
  return out;
}

/** Runs `step` while every node is probed over DNS from its own namespace; what each prober saw. */
async function probed(step: () => Promise<void>): Promise<Map<number, ProbeResult>> {
  const probers = NODES.map((i) =>
    startProber({ name: 'anchor.default.cluster.local', port: DNS_PORT, hz: 50, targets: [lab.addr(i)], prefix: ['ip', 'netns', 'exec', lab.lab.ns(i)] }),
  );
  let results: ProbeResult[];
  try {
    await Promise.all(probers.map((p) => p.ready));
    await step();
  } finally {
    results = await Promise.all(probers.map((p) => p.stop()));
  }
  return new Map(results.map((r, k) => [NODES[k]!, r]));
}

function assertAnswered(results: Map<number, ProbeResult>, what: string): void {
  for (const [i, r] of results) {
    assert.ok(r.sent > 0, `n${i}: the prober sent nothing`);
    assert.equal(r.timeouts, 0, `n${i} left ${r.timeouts} of ${r.sent} DNS queries unanswered during ${what}`);
  }
}

describe('a burst of 1,000 registrations on one node of five', () => {
  it('reaches every node while every node keeps answering DNS', async () => {
    const results = await probed(async () => {
      lab.register(1, burst(BURST));
      for (const i of NODES)
        await eventually(
          () => endpoints(i),
          (n) => n === BURST + NODES.length,
          `n${i} has the burst`,
          60_000,
          50,
        );
    });
    assertAnswered(results, 'the burst');
    assert.deepEqual(await lab.answers(4, 'b999'), ['10.99.3.231']);
  });

  it('changes all 1,000 at once, and withdraws them, everywhere', async () => {
    const results = await probed(async () => {
      lab.register(1, burst(BURST, 1));
      for (const i of NODES)
        await eventually(
          () => lab.answers(i, 'b999'),
          (a) => a.join() === '10.99.3.232',
          `n${i} has the changed b999`,
          60_000,
          50,
        );
      lab.register(1, burst(0));
      for (const i of NODES)
        await eventually(
          () => endpoints(i),
          (n) => n === NODES.length,
          `n${i} dropped the burst`,
          60_000,
          50,
        );
    });
    assertAnswered(results, 'the change and the withdrawal');
    assert.deepEqual(await lab.answers(5, 'b0'), []);
  });
});
