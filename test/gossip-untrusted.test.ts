// Gossip input is untrusted. A second process (test/helpers/gossip-forger.ts,
// this repository's own memberlist codec) joins a real podswarm-dns node and
// sends it replication payloads mixing malformed entries with good ones, by
// push/pull and by user message, plus a push/pull over the size limit, in
// plaintext and encrypted with the cluster's key: the good entries are
// served (dig), the bad ones are not, the node logs the sender once and
// counts every rejection by reason, and a third node, which hears of the
// forger's entries only from the first, never receives a bad one.
// Needs root (`ip netns`).

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { eventually } from './helpers/eventually.js';
import { fastGossip } from './helpers/gossip-timing.js';
import { GossipLab } from './helpers/gossip-lab.js';
import { samples } from './helpers/metrics.js';
import { settleWhen } from './helpers/waiters.js';

const GOSSIP_PORT = 19322;
const FORGER = 3;
const KEY = 'T9jncgl9mbLus+baTTa7q13QOkUfmbs6u5Y3PbaPxYw=';
const FORGER_SCRIPT = fileURLToPath(new URL('./helpers/gossip-forger.ts', import.meta.url));
/** Over the replication limit (16 MiB), under memberlist's 20 MB for a push/pull. */
const OVERSIZED = 17 * 1024 * 1024;

let key: string | undefined;
let lab: GossipLab;

before(async () => {
  lab = await GossipLab.create({
    tag: `psw-h3-u${process.pid}`,
    subnet: '10.250.61',
    size: 3,
    dnsPort: 19321,
    gossipPort: GOSSIP_PORT,
    metricsPort: 19323,
    // the forger answers periodic push/pulls with an empty state: node 2 learns its entries only from node 1
    gossip: () => [fastGossip('        '), ...(key ? [`encrypt ${key}`] : [])],
    seeds: (i) => (i === 1 ? [] : [1]),
  });
});

after(async () => {
  await lab?.destroy();
});

const endpoint = (service: string, address: string, ports: unknown = [{ name: 'http', port: 80, protocol: 'tcp' }], extra = {}): unknown => ({
  kind: 'endpoint',
  endpoint: { namespace: 'default', service, name: 'e1', nodeName: 'forger', address, ports, healthy: true, updatedAt: 1, ...extra },
});
const entry = (service: string, value: unknown, version = Date.now()): Record<string, unknown> => ({ [`e:default/${service}/e1`]: [version, value] });
const payload = (state: unknown): string => Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify(state))]).toString('base64');

/** Push/pull: the endpoint whose ports are no list is the one that used to block every later entry of its owner. */
const FIRST = {
  forger: {
    ...entry('good1', endpoint('good1', '203.0.113.51')),
    ...entry('noports', endpoint('noports', '203.0.113.60', 'http:80')),
    ...entry('badaddr', endpoint('badaddr', '203.0.113.300')),
    ...entry('bighport', endpoint('bighport', '203.0.113.61', [{ name: 'http', port: 70_000, protocol: 'tcp' }])),
    ...entry('future', endpoint('future', '203.0.113.62'), Date.now() + 24 * 3_600_000),
    ...entry('huge', endpoint('huge', '203.0.113.63', undefined, { note: 'x'.repeat(10_000) })),
    'e:default/Bad_Name/e1': [Date.now(), endpoint('Bad_Name', '203.0.113.64')],
  },
  'bad\u0001owner': entry('ctrl', endpoint('ctrl', '203.0.113.65')),
};
const FIRST_REASONS = { port: 2, address: 1, version: 1, size: 1, name: 1, owner: 1 };
/** User message, later: good entries still get through. */
const SECOND = {
  forger: {
    ...entry('good2', endpoint('good2', '203.0.113.52')),
    ...entry('zeroport', endpoint('zeroport', '203.0.113.66', [{ name: 'http', port: 0, protocol: 'tcp' }])),
  },
};
const THIRD = { forger: entry('good3', endpoint('good3', '203.0.113.53')) };
const GOOD = { good1: '203.0.113.51', good2: '203.0.113.52', good3: '203.0.113.53' };
const BAD = ['noports', 'badaddr', 'bighport', 'future', 'huge', 'ctrl', 'zeroport'];

class Forger {
  private out = '';
  private readonly waiters = new Set<() => void>();
  private readonly proc: ChildProcess;

  constructor(seedKey: string | undefined) {
    const args = [`${lab.addr(FORGER)}:${GOSSIP_PORT}`, `${lab.addr(1)}:${GOSSIP_PORT}`, ...(seedKey ? [seedKey] : [])];
    this.proc = spawn('ip', ['netns', 'exec', lab.lab.ns(FORGER), process.execPath, '--import', 'tsx', FORGER_SCRIPT, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const onData = (d: Buffer): void => {
      this.out += d.toString();
      for (const w of this.waiters) w();
    };
    this.proc.stdout!.on('data', onData);
    this.proc.stderr!.on('data', onData);
  }

  waitFor(line: string): Promise<void> {
    return settleWhen(
      this.waiters,
      () => (this.out.includes(`${line}\n`) ? { value: undefined } : this.out.includes('error ') ? { error: new Error(this.out) } : undefined),
      20_000,
      () => `forger: no '${line}'; output:\n${this.out}`,
    );
  }

  async send(cmd: string, arg: string): Promise<void> {
    const done = `ok ${cmd}`;
    this.out = this.out.replaceAll(`${done}\n`, '');
    this.proc.stdin!.write(`${cmd} ${arg}\n`);
    await this.waitFor(done);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill('SIGKILL');
    });
  }
}

/** podswarm_gossip_rejected_entries_total of node i: reason → count. */
async function rejected(i: number): Promise<Record<string, number>> {
  return Object.fromEntries(samples(await lab.metrics(i), 'podswarm_gossip_rejected_entries_total').map((s) => [s.labels.reason!, s.value]));
}

for (const encrypted of [false, true]) {
  describe(`replicated entries from a ${encrypted ? 'member with the key' : 'plaintext member'}`, () => {
    let forger: Forger | undefined;
    after(async () => {
      await forger?.stop();
      await lab.stop(2, 'SIGKILL');
      await lab.stop(1, 'SIGKILL');
    });

    it('serves the good ones, drops, logs and counts the bad, and never passes them on', async () => {
      key = encrypted ? KEY : undefined;
      await lab.start(1, { svc1: '203.0.113.1' });
      await lab.start(2, {});
      await eventually(
        () => lab.answers(2, 'svc1'),
        (a) => a.join() === '203.0.113.1',
        'n2 joined n1',
      );

      forger = new Forger(key);
      await forger.waitFor('ready');
      await forger.send('join', payload(FIRST));
      await forger.send('user', payload(SECOND));
      await forger.send('oversize', String(OVERSIZED));
      await forger.send('user', payload(THIRD));

      for (const i of [1, 2]) {
        for (const [name, address] of Object.entries(GOOD)) {
          await eventually(
            () => lab.answers(i, name),
            (a) => a.join() === address,
            `n${i} serves ${name}`,
            15_000,
          );
        }
        for (const name of BAD) assert.equal((await lab.query(i, name)).status, 'NXDOMAIN', `n${i} must not serve ${name}`);
      }
      assert.deepEqual(await rejected(1), { ...FIRST_REASONS, port: FIRST_REASONS.port + 1, oversized: 1 });
      const logged = lab.servers
        .get(1)!
        .output()
        .split('\n')
        .filter((l) => l.includes(`invalid replicated`) && l.includes(`from ${lab.addr(FORGER)}:`));
      assert.equal(logged.length, 1, `one line for the forger, got:\n${logged.join('\n')}`);
      // node 2 heard of the forger's entries only through node 1: had a bad one been passed on, it would have refused it
      assert.deepEqual(await rejected(2), {});
      assert.doesNotMatch(lab.servers.get(2)!.output(), /invalid replicated/);
    });
  });
}
