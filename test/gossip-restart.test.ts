// Restarting podswarm-dns is no outage for the containers it registered:
// three nodes, each serving a registry file, are restarted one after the
// other (SIGTERM, a graceful leave) while clients ask every node for every
// node's services, and no answer is NXDOMAIN, SERVFAIL or empty. What a node
// stopped registering during its restart still leaves every node; a killed
// node still leaves the answers once it is declared dead (keep_dead is 0).
// Needs root (`ip netns`).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventuallyAnswers } from './helpers/eventually.js';
import { fastGossip } from './helpers/gossip-timing.js';
import { GossipLab } from './helpers/gossip-lab.js';

const NODES = [1, 2, 3] as const;
const own = (i: number): Record<string, string> => ({ [`svc${i}`]: `203.0.113.${i}` });
let lab: GossipLab;

before(async () => {
  lab = await GossipLab.create({
    tag: `psw-h3-r${process.pid}`,
    subnet: '10.250.60',
    size: NODES.length,
    dnsPort: 19301,
    gossipPort: 19302,
    metricsPort: 19303,
    // keep_departed and keep_dead at their defaults: those are what is tested
    gossip: () => [fastGossip('        '), 'reconnect_interval 500ms'],
  });
  for (const i of NODES) await lab.start(i, own(i));
});

after(async () => {
  await lab?.destroy();
});

/** Node `i` answers `name` with exactly `want`. */
async function waitAnswers(i: number, name: string, want: string[], why: string): Promise<void> {
  await eventuallyAnswers(() => lab.answers(i, name), `n${i}`, name, want, why, 30_000, 100);
}

interface Tally {
  answered: number;
  /** The node asked was the one restarting: no listener, so no answer at all. */
  down: number;
  bad: string[];
}

/**
 * Until `stop()`, each node is asked for every service in turn, as clients
 * would. `down(i)` says whether node i is being restarted (then it may not
 * answer; it may never answer wrongly), and so is a node in `settling`
 * (back, but not yet answered once).
 */
function clients(names: () => Record<string, string>, down: (i: number) => boolean, settling: Set<number>): { stop(): Promise<Tally> } {
  const tally: Tally = { answered: 0, down: 0, bad: [] };
  let running = true;
  const loop = async (i: number): Promise<void> => {
    while (running) {
      await Promise.all(
        Object.entries(names()).map(async ([name, address]) => {
          const wasDown = down(i);
          const r = await lab.query(i, name);
          const data = r.answer.map((a) => a.data);
          if (r.status === 'NOERROR' && data.length === 1 && data[0] === address) {
            tally.answered++;
            settling.delete(i);
          } else if (r.status === 'TIMEOUT' && (wasDown || down(i) || settling.has(i))) tally.down++;
          else tally.bad.push(`n${i} ${name}: ${r.status} ${JSON.stringify(data)}`);
        }),
      );
    }
  };
  const loops = NODES.map((i) => loop(i));
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return tally;
    },
  };
}

describe('restarting podswarm-dns nodes', () => {
  it('keeps every running endpoint in every node’s answers through a rolling restart', async () => {
    for (const i of NODES) for (const j of NODES) await waitAnswers(i, `svc${j}`, [`203.0.113.${j}`], 'initial sync');
    const all = Object.assign({}, ...NODES.map(own)) as Record<string, string>;
    let restarting = 0;
    // A node just back is still restarting until it first answers (its first replies may be slow, not wrong).
    const settling = new Set<number>();
    const load = clients(
      () => all,
      (i) => i === restarting,
      settling,
    );
    const times: number[] = [];
    for (const i of NODES) {
      restarting = i;
      const t0 = Date.now();
      await lab.stop(i, 'SIGTERM');
      settling.add(i);
      await lab.start(i, own(i));
      times.push(Date.now() - t0);
      restarting = 0;
      // a rolling restart moves on once the node is back; its peers' views need not be waited for
    }
    const tally = await load.stop();
    console.log(`# rolling restart: ${tally.answered} right answers, ${tally.down} unanswered by the restarting node, restarts took ${times.join(', ')} ms`);
    assert.deepEqual(tally.bad, [], 'answers that lost a running endpoint');
    assert.ok(tally.answered > 0);
  });

  it('drops what a node stopped registering while it restarted, and nothing else', async () => {
    lab.register(1, { ...own(1), gone: '203.0.113.100' });
    for (const i of NODES) await waitAnswers(i, 'gone', ['203.0.113.100'], 'registered on n1');
    const load = clients(
      () => ({ svc1: '203.0.113.1' }),
      (i) => i === 1,
      new Set(),
    );
    await lab.stop(1, 'SIGTERM');
    await lab.start(1, own(1));
    const t0 = Date.now();
    for (const i of NODES) await waitAnswers(i, 'gone', [], 'n1 restarted without gone');
    console.log(`# gone from every node ${Date.now() - t0} ms after n1 was back`);
    const tally = await load.stop();
    assert.deepEqual(tally.bad, [], 'svc1 lost while n1 restarted');
  });

  it('still drops a killed node’s endpoints once it is declared dead', async () => {
    const t0 = Date.now();
    await lab.stop(3, 'SIGKILL');
    for (const i of [1, 2]) await waitAnswers(i, 'svc3', [], 'n3 killed');
    console.log(`# killed node out of the answers after ${Date.now() - t0} ms`);
  });
});
