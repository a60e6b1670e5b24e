// A reload that changes the gossip settings is refused, and the node stays
// in the cluster: the old configuration's gossip node, which the new one had
// to stop first (the two would bind the same port), is started again with
// the old settings. Two podswarm-dns processes on loopback; the refusals are
// a gossip port another socket holds, and a DNS listener on a taken port
// (the new gossip node started, then the configuration was refused).
// Ports and a 127.x.y.0/24 of our own from helpers/ports.ts.

import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dig } from './helpers/dig.js';
import { eventuallyAnswers } from './helpers/eventually.js';
import { freePorts, loopbackBlock } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

const [GOSSIP, TAKEN, MOVED, DNS] = await freePorts(4);
const LOOPBACK = await loopbackBlock();
const ip = (n: number): string => `${LOOPBACK}.${n}`;

const registry = (services: Record<string, string>): string =>
  `services:\n${Object.entries(services)
    .map(([name, address]) => `  - name: ${name}\n    endpoints:\n      - { address: ${address} }\n`)
    .join('')}`;

/** Node n's Corefile: gossip on `gossipPort`, DNS on DNS, and `extra` server blocks. */
const corefile = (n: number, gossipPort: number, extra = ''): string => `cluster.local:${DNS} {
    bind ${ip(n)}
    gossip {
        bind ${ip(n)}:${gossipPort}
        ${n === 1 ? '' : `join ${ip(1)}:${GOSSIP}`}
        profile local
    }
    cluster cluster.local {
        registry {{dir}}/services.yaml
    }
}
${extra}`;

const nodes: RunningServer[] = [];
let held: { udp: UdpSocket; tcp: Server } | undefined;

async function start(n: number): Promise<RunningServer> {
  const s = await startServer({
    corefile: corefile(n, GOSSIP),
    files: { 'services.yaml': registry({ [`web${n}`]: `203.0.113.${n}` }) },
    args: ['-node', `rr${n}`],
  });
  nodes.push(s);
  return s;
}

const answers = async (n: number, name: string): Promise<string[]> =>
  (await dig(DNS, `${name}.default.cluster.local`, 'A', [], ip(n))).answer.map((a) => a.data).sort();

/** Until `re` (no flags) has matched `s`'s output `times` times in all. */
async function seen(s: RunningServer, re: RegExp, times: number): Promise<void> {
  await s.waitFor(new RegExp(`(${re.source}[^]*){${times}}`));
}

const count = (s: RunningServer, re: RegExp): number => [...s.output().matchAll(new RegExp(re.source, 'g'))].length;

/** Rewrites node 1's Corefile, signals a reload and returns what it logged up to the refusal. */
async function refusedReload(s: RunningServer, text: string): Promise<string> {
  const from = s.output().length;
  const refusals = count(s, /reload refused/);
  writeFileSync(s.corefilePath, text.replaceAll('{{dir}}', s.dir));
  s.proc.kill('SIGUSR1');
  await seen(s, /reload refused/, refusals + 1);
  return s.output().slice(from);
}

/** Until node 1's log shows its gossip node started on the old port `times` times in all, and `joins` joins in all. */
async function backOnOldPort(s: RunningServer, times: number, joins: number): Promise<void> {
  const on = new RegExp(`plugin/gossip: node rr1 gossiping on ${ip(1).replaceAll('.', '\\.')}:${GOSSIP},`);
  await seen(s, on, times);
  assert.equal(count(s, on), times);
  await seen(s, /plugin\/gossip: joined the cluster/, joins);
}

/** A change on node 2 reaches node 1 and back: node 1's gossip node is in the cluster. */
async function replicates(s1: RunningServer, s2: RunningServer, step: string): Promise<void> {
  writeFileSync(join(s2.dir, 'services.yaml'), registry({ web2: '203.0.113.2', [`after${step}`]: '203.0.113.20' }));
  await eventuallyAnswers(
    () => answers(1, `after${step}`),
    'rr1',
    `after${step}`,
    ['203.0.113.20'],
    `registered on rr2 after the ${step} refusal`,
    20_000,
    100,
  );
  writeFileSync(join(s1.dir, 'services.yaml'), registry({ web1: '203.0.113.1', [`from1${step}`]: '203.0.113.10' }));
  await eventuallyAnswers(
    () => answers(2, `from1${step}`),
    'rr2',
    `from1${step}`,
    ['203.0.113.10'],
    `registered on rr1 after the ${step} refusal`,
    20_000,
    100,
  );
}

describe('a refused reload that changed the gossip settings', { timeout: 120_000 }, () => {
  let s1: RunningServer;
  let s2: RunningServer;

  before(async () => {
    s1 = await start(1);
    s2 = await start(2);
    await s2.waitFor(/plugin\/gossip: joined the cluster/);
    await eventuallyAnswers(() => answers(1, 'web2'), 'rr1', 'web2', ['203.0.113.2'], 'initial sync', 20_000, 100);
    await eventuallyAnswers(() => answers(2, 'web1'), 'rr2', 'web1', ['203.0.113.1'], 'initial sync', 20_000, 100);
  });

  after(async () => {
    held?.udp.close();
    held?.tcp.close();
    for (const s of nodes) await s.stop();
  });

  it('gossip port taken: refused with the reason, and the node is back on its old port, replicating', async () => {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(TAKEN, ip(1), resolve));
    const tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(TAKEN, ip(1), resolve));
    held = { udp, tcp };
    const out = await refusedReload(s1, corefile(1, TAKEN));
    assert.match(out, new RegExp(`reload refused, previous configuration still serving: gossip: .*EADDRINUSE.*${TAKEN}`));
    await backOnOldPort(s1, 2, 1);
    await replicates(s1, s2, 'port');
  });

  it('a later listener fails after the new gossip node started: the old one is back, the new port let go', async () => {
    // Gossip moves to a free port (that node starts), then a server block on the port the test holds fails.
    const out = await refusedReload(s1, corefile(1, MOVED, `.:${TAKEN} {\n    bind ${ip(1)}\n    whoami\n}\n`));
    assert.match(out, new RegExp(`gossiping on ${ip(1).replaceAll('.', '\\.')}:${MOVED}`));
    assert.match(out, new RegExp(`reload refused, previous configuration still serving: .*EADDRINUSE.*${TAKEN}`));
    // Joins: the restored node after the first refusal, the refused node on MOVED, the restored one.
    await backOnOldPort(s1, 3, 3);
    await replicates(s1, s2, 'listener');
    const probe = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(MOVED, ip(1), resolve);
    });
    probe.close();
  });
});
