// Gossip over IPv6, end to end on ::1: podswarm-dns processes that form a
// cluster and replicate services (answers read with dig), a real `serf
// agent -bind [::1]:PORT` joining us and being joined, an indirect probe
// relayed between IPv6 nodes, a node bound to IPv4 facing an IPv6 peer,
// and a dual-stack `[::]` node (in a network namespace of its own, since it
// listens on every address). Ports from helpers/ports.ts, but in the namespace.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ipToWire } from '../src/gossip/address.js';
import { defaultLocalConfig } from '../src/gossip/config.js';
import { Memberlist } from '../src/gossip/memberlist.js';
import { MessageType, decodeAck, decodeNack, encodeIndirectPing } from '../src/gossip/messages.js';
import { type WireSecurity, decodePacket, flattenMessage } from '../src/gossip/net.js';
import { dig, parseDig } from './helpers/dig.js';
import { eventually, eventuallyAnswers } from './helpers/eventually.js';
import { createLab, type Lab } from './helpers/netns.js';
import { freePorts } from './helpers/ports.js';
import { serfMembers, startSerf, stopAllSerf, stopSerf, waitSerf } from './helpers/serf.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { fastGossip } from './helpers/gossip-timing.js';

const run = promisify(execFile);

/** Fast failure detection; push_pull_interval 0 so later changes can only travel by UDP gossip. */
const FAST = `${fastGossip('        ', '0')}
        reconnect_interval 500ms`;

const servers = new Set<RunningServer>();
/** Three nodes' gossip and DNS ports on ::1. */
const V6_CLUSTER_PORTS = await freePorts(6);
/** A serf agent's gossip and RPC ports, our node's gossip and DNS ports. */
const V6_SERF_PORTS = await freePorts(4);

interface Node {
  name: string;
  dnsPort: number;
  /** Registered services: name → address. */
  services: Record<string, string>;
  server?: RunningServer;
}

function registry(n: Node): string {
  const list = Object.entries(n.services).map(([name, address]) => `  - name: ${name}\n    endpoints:\n      - { address: "${address}" }\n`);
  return `services:\n${list.join('')}`;
}

/** A podswarm-dns process serving cluster.local on `dnsBind` with the given `gossip` block lines. */
async function startNode(n: Node, dnsBind: string, gossip: string, prefix?: string[]): Promise<RunningServer> {
  const server = await startServer({
    prefix,
    corefile: `cluster.local:${n.dnsPort} {
    bind ${dnsBind}
    gossip {
        ${gossip}
        ${FAST}
    }
    cluster cluster.local {
        registry {{dir}}/services.yaml
    }
}
`,
    files: { 'services.yaml': registry(n) },
    args: ['-node', n.name],
  });
  n.server = server;
  servers.add(server);
  return server;
}

/** Resolves with the exit code. */
function stopNode(n: Node, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  servers.delete(n.server!);
  return n.server!.stop(signal);
}

function register(n: Node, name: string, address: string): void {
  n.services[name] = address;
  writeFileSync(join(n.server!.dir, 'services.yaml'), registry(n));
}

const recordType = (address: string): string => (address.includes(':') ? 'AAAA' : 'A');

afterEach(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  servers.clear();
  await stopAllSerf();
});

describe('podswarm-dns nodes gossiping on ::1', () => {
  const [gossip1, gossip2, gossip3, dns1, dns2, dns3] = V6_CLUSTER_PORTS;
  const gossipPorts = [gossip1, gossip2, gossip3];
  const gossipPort = (i: number): number | undefined => gossipPorts[i];
  const nodes: Node[] = [dns1, dns2, dns3].map((dnsPort, k) => ({ name: `v6n${k + 1}`, dnsPort, services: { [`svc${k + 1}`]: `2001:db8::${k + 1}` } }));

  function start(n: Node, i: number): Promise<RunningServer> {
    const seeds = [0, 1, 2].filter((j) => j !== i).map((j) => `[::1]:${gossipPort(j)}`);
    return startNode(n, '::1', `bind [::1]:${gossipPort(i)}\n        join ${seeds.join(' ')}`);
  }

  /** What node `n` answers for `<name>.default.cluster.local`, asked over IPv6. */
  async function answers(n: Node, name: string, type: string): Promise<string[]> {
    return (await dig(n.dnsPort, `${name}.default.cluster.local`, type, [], '::1')).answer.map((r) => r.data).sort();
  }

  async function waitAnswer(n: Node, name: string, address: string | null, why: string, type = recordType(address ?? '')): Promise<void> {
    const want = address === null ? [] : [address];
    await eventuallyAnswers(() => answers(n, name, type), n.name, name, want, why, 30_000, 200);
  }

  async function converged(why: string): Promise<void> {
    for (const n of nodes) for (const m of nodes) for (const [name, address] of Object.entries(m.services)) await waitAnswer(n, name, address, why);
  }

  it('form a cluster and replicate services; a killed node leaves the answers and comes back', async () => {
    for (const [i, n] of nodes.entries()) await start(n, i);
    for (const n of nodes) await n.server!.waitFor(/plugin\/gossip: joined the cluster/);
    assert.match(nodes[0]!.server!.output(), new RegExp(`gossiping on \\[::1\\]:${gossipPort(0)}, advertising \\[::1\\]:${gossipPort(0)}`));
    await converged('initial sync');

    // with periodic push/pull off, a later registration can only travel by UDP gossip over IPv6
    register(nodes[0]!, 'late', '203.0.113.50');
    await waitAnswer(nodes[2]!, 'late', '203.0.113.50', 'gossiped from v6n1');

    // failure detection (direct and indirect probes over IPv6) takes v6n1's entries out
    await stopNode(nodes[0]!);
    for (const n of nodes.slice(1)) {
      await waitAnswer(n, 'svc1', null, 'v6n1 killed', 'AAAA');
      await waitAnswer(n, 'late', null, 'v6n1 killed', 'A');
    }
    await start(nodes[0]!, 0);
    await converged('v6n1 restarted');
    // joins and reconnects to a node that is down are refused; nothing else went wrong
    for (const n of nodes) assert.doesNotMatch(n.server!.output(), /failed to send|cannot reach|out of reach|failed to handle/);
  });
});

describe('a serf agent on [::1]', () => {
  const [SERF_PORT, SERF_RPC, OURS_PORT, DNS_PORT] = V6_SERF_PORTS;
  const SERF = `[::1]:${SERF_PORT}`;
  const OURS = `[::1]:${OURS_PORT}`;
  const ours: Node = { name: 'psdns6', dnsPort: DNS_PORT, services: {} };

  it('is joined by our node: serf members shows both alive at their IPv6 addresses', async () => {
    const serf = await startSerf('serf6a', SERF, SERF_RPC);
    const server = await startNode(ours, '::1', `bind ${OURS}\n        join ${SERF}\n        tags zone=v6`);
    await server.waitFor(/plugin\/gossip: joined the cluster \(1 of 1 seeds answered\)/);
    const m = await waitSerf(serf, (m) => m.get('psdns6')?.status === 'alive', 'psdns6 alive');
    assert.deepEqual(m.get('psdns6'), { addr: OURS, status: 'alive', tags: { role: 'podswarm-dns', zone: 'v6' } });
    assert.deepEqual(m.get('serf6a'), { addr: SERF, status: 'alive', tags: {} });
    assert.doesNotMatch(serf.log(), /\[ERR\]/);
    // our probes over IPv6 notice the agent going away; the reconnect shows the 16 bytes serf sent us, read back
    await stopSerf(serf, 'SIGKILL');
    await server.waitFor(/memberlist: marking serf6a as failed/);
    await server.waitFor(new RegExp(`plugin/gossip: attempting reconnect to serf6a \\[::1\\]:${SERF_PORT}`));
  });

  it('joins our node: both alive, and our graceful leave shows as left', async () => {
    const server = await startNode(ours, '::1', `bind ${OURS}`);
    await server.waitFor(new RegExp(`gossiping on \\[::1\\]:${OURS_PORT}`));
    const serf = await startSerf('serf6b', SERF, SERF_RPC, [`-join=${OURS}`]);
    const m = await waitSerf(serf, (m) => m.get('psdns6')?.status === 'alive' && m.get('serf6b')?.status === 'alive', 'both alive');
    assert.equal(m.get('psdns6')!.addr, OURS);
    assert.equal(m.get('serf6b')!.addr, SERF);
    assert.equal(await stopNode(ours, 'SIGTERM'), 0);
    await waitSerf(serf, (m) => m.get('psdns6')?.status === 'left', 'psdns6 left');
  });
});

describe('an indirect probe between IPv6 nodes', () => {
  const open: Memberlist[] = [];
  after(async () => {
    for (const ml of open) await ml.shutdown();
  });

  it('relays a ping to a 16-byte target and acks back to a 16-byte source; nacks a silent one', async () => {
    const [relayPort, targetPort, askerPort, silentPort] = await freePorts(4);
    const relay = new Memberlist({ ...defaultLocalConfig('relay6'), bindAddr: '::1', bindPort: relayPort });
    const target = new Memberlist({ ...defaultLocalConfig('target6'), bindAddr: '::1', bindPort: targetPort });
    open.push(relay, target);
    await relay.start();
    await target.start();
    const sec: WireSecurity = { keyring: null, encryptionVersion: 1, label: '', verifyIncoming: true, verifyOutgoing: true };
    const asker = createSocket('udp6');
    await new Promise<void>((r) => asker.bind({ address: '::1', port: askerPort }, r));
    const replies = new Map<number, number>();
    const waiting = new Set<() => void>();
    asker.on('message', (buf) => {
      for (const leaf of flattenMessage(decodePacket(buf, sec), () => {})) {
        if (leaf.type === MessageType.ackResp) replies.set(decodeAck(leaf.body).seqNo, MessageType.ackResp);
        if (leaf.type === MessageType.nackResp) replies.set(decodeNack(leaf.body).seqNo, MessageType.nackResp);
      }
      for (const w of waiting) w();
    });
    const ask = (seqNo: number, node: string, port: number): Promise<number> => {
      const req = encodeIndirectPing({
        seqNo,
        node,
        target: ipToWire('::1'),
        port,
        nack: true,
        sourceAddr: ipToWire('::1'),
        sourcePort: askerPort,
        sourceNode: 'asker',
      });
      asker.send(req, relayPort, '::1');
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to indirect ping ${seqNo}`)), 5000);
        const check = (): void => {
          if (!replies.has(seqNo)) return;
          clearTimeout(timer);
          waiting.delete(check);
          resolve(replies.get(seqNo)!);
        };
        waiting.add(check);
      });
    };
    try {
      assert.equal(await ask(41, 'target6', targetPort), MessageType.ackResp);
      assert.equal(await ask(42, 'nobody', silentPort), MessageType.nackResp);
    } finally {
      asker.close();
    }
  });
});

describe('a node bound to IPv4 and a peer on IPv6 only', () => {
  it('logs why it cannot join, keeps running, and names the member it cannot reach', async () => {
    const [serfPort, serfRpc, oursPort, dnsPort] = await freePorts(4);
    const serf = await startSerf('serf6m', `[::1]:${serfPort}`, serfRpc);
    const ours: Node = { name: 'psdns4', dnsPort, services: { web: '203.0.113.7' } };
    const server = await startNode(ours, '127.0.0.1', `bind 127.0.0.1:${oursPort}\n        join [::1]:${serfPort}`);
    await server.waitFor(
      new RegExp(
        `\\[WARNING\\] plugin/gossip: join failed, retrying in 1s: failed to join \\[::1\\]:${serfPort}: cannot reach \\[::1\\]:${serfPort}: it is an IPv6 address and this node gossips on IPv4 \\(127\\.0\\.0\\.1\\)`,
      ),
    );
    // serf's join reaches our TCP listener (Go does not bind outgoing TCP); we learn of a member we cannot reach
    await run('serf', ['join', `-rpc-addr=${serf.rpc}`, `127.0.0.1:${oursPort}`]);
    await server.waitFor(
      new RegExp(
        `\\[WARNING\\] plugin/gossip: memberlist: serf6m at \\[::1\\]:${serfPort} is out of reach: it is an IPv6 address and this node gossips on IPv4 \\(127\\.0\\.0\\.1\\); this node does not probe or gossip to it`,
      ),
    );
    assert.equal(server.proc.exitCode, null);
    assert.deepEqual(
      (await dig(ours.dnsPort, 'web.default.cluster.local')).answer.map((r) => r.data),
      ['203.0.113.7'],
    );
    assert.equal((await serfMembers(serf)).get('psdns4')?.addr, `127.0.0.1:${oursPort}`);
  });
});

describe('a dual-stack node bound to [::]', () => {
  let lab: Lab | undefined;
  after(async () => {
    await lab?.destroy();
  });

  it('gossips with an IPv4 peer through its one socket', async () => {
    // `[::]` listens on every address: only inside a namespace of our own (just its loopback is used)
    lab = await createLab(`d${process.pid}`, '10.231.58', 1);
    const prefix = ['ip', 'netns', 'exec', lab.ns(1)];
    const dual: Node = { name: 'dual', dnsPort: 17750, services: { fromdual: '203.0.113.60' } };
    const four: Node = { name: 'four', dnsPort: 17751, services: { fromfour: '203.0.113.61' } };
    await startNode(dual, '127.0.0.1', 'bind [::]:17752\n        advertise 127.0.0.1:17752', prefix);
    await startNode(four, '127.0.0.1', 'bind 127.0.0.1:17753\n        join 127.0.0.1:17752', prefix);
    await four.server!.waitFor(/plugin\/gossip: joined the cluster/);
    const answers = async (n: Node, name: string): Promise<string[]> =>
      parseDig(
        await lab!.exec(1, 'dig', ['@127.0.0.1', '-p', String(n.dnsPort), `${name}.default.cluster.local`, 'A', '+norec', '+time=1', '+tries=1']),
      ).answer.map((r) => r.data);
    const waitAnswer = (n: Node, name: string, address: string): Promise<string[]> =>
      eventually(
        () => answers(n, name),
        (a) => a.join() === address,
        `${n.name}: ${name} → ${address}`,
        30_000,
        200,
      );
    await waitAnswer(dual, 'fromfour', '203.0.113.61');
    await waitAnswer(four, 'fromdual', '203.0.113.60');
    // no periodic push/pull: this one reaches `four` only by UDP from the dual-stack socket
    register(dual, 'later', '203.0.113.62');
    await waitAnswer(four, 'later', '203.0.113.62');
    for (const n of [dual, four]) assert.doesNotMatch(n.server!.output(), /\[ERROR\]|UDP probes failed/);
  });
});
