// Serf user events through podswarm-dns nodes, against real serf agents
// (Debian serf) on loopback: an event that reaches only a podswarm-dns node
// reaches every serf agent, once; a serf agent that joins later with a
// podswarm-dns node as its only seed gets the recent events from that
// node's push/pull with `serf join -replay`, and none without it (serf's
// eventMinTime, set from our EventLTime); an oversized or malformed event is
// dropped with a log line and the node keeps relaying. Events are sent as raw
// memberlist datagrams straight to one podswarm-dns node, so they can reach
// the serf agents only through it.
// Ports and a loopback block from helpers/ports.ts.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { MessageType } from '../src/gossip/messages.js';
import { MsgWriter } from '../src/gossip/msgpack.js';
import { SerfMessageType } from '../src/gossip/serf.js';
import { eventually } from './helpers/eventually.js';
import { freePorts, loopbackBlock } from './helpers/ports.js';
import { sendDatagram } from './helpers/raw.js';
import { type Agent, type SerfCluster, startSerf, startSerfCluster } from './helpers/serf.js';

const run = promisify(execFile);
const [GOSSIP, DNS, RPC1, RPC2, RPC3, RPC4] = await freePorts(6);
const LOOPBACK = await loopbackBlock();
const ip = (n: number): string => `${LOOPBACK}.${n}`;
/** Long enough for the gossip rounds and relays that could deliver a copy of an event, and for a push/pull or two. */
const SETTLE_MS = 4000;

/** s1, s2 and the podswarm-dns nodes p1 (`ip(11)`) and p2 (`ip(12)`); later s3 and s4 too. */
let cluster: SerfCluster;

/** `[8][3][messageUserEvent]`, as a serf agent sends it (CC false: serf agents coalesce events that allow it). */
function userEvent(ltime: number, name: string, payload: Buffer): Buffer {
  const w = new MsgWriter();
  w.struct({
    LTime: { kind: 'uint', value: ltime },
    Name: { kind: 'str', value: name },
    Payload: { kind: 'bytes', value: payload },
    CC: { kind: 'bool', value: false },
  });
  return Buffer.concat([Buffer.from([MessageType.user, SerfMessageType.userEvent]), w.bytes()]);
}

/** One unencrypted memberlist datagram to the podswarm-dns node at `ip(n)`. */
const sendTo = (n: number, datagram: Buffer): Promise<void> => sendDatagram(ip(n), GOSSIP, datagram);

/** How many times agent `a` handed the user event `name` to its handlers. */
function received(a: Agent, name: string): number {
  return a
    .log()
    .split('\n')
    .filter((l) => l.endsWith(`agent: Received event: user-event: ${name}`)).length;
}

async function onEveryAgentOnce(name: string): Promise<void> {
  for (const a of cluster.agents)
    await eventually(
      async () => received(a, name),
      (n) => n > 0,
      `${a.rpc} to receive ${name}`,
      20_000,
    );
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  for (const a of cluster.agents) assert.equal(received(a, name), 1, `${a.rpc} received ${name} once`);
}

before(async () => {
  cluster = await startSerfCluster(ip, { gossip: GOSSIP, dns: DNS, rpc: [RPC1, RPC2] }, 2, ['-log.level', 'debug']);
});

after(() => cluster?.stop());

describe('serf user events through podswarm-dns nodes', () => {
  it('passes on an event that reaches only a podswarm-dns node: every serf agent receives it, once', async () => {
    await sendTo(11, userEvent(10, 'only-p1', Buffer.from('hello')));
    await onEveryAgentOnce('only-p1');
    // a copy that comes back to the node is not passed on again
    await sendTo(11, userEvent(10, 'only-p1', Buffer.from('hello')));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    for (const a of cluster.agents) assert.equal(received(a, 'only-p1'), 1, a.rpc);
  });

  it('gives a serf agent that joins through a podswarm-dns node the recent events: replayed with -replay, ignored without', async () => {
    // p2 has the event, from gossip or a push/pull
    await cluster.ours[1]!.waitFor(/serf: user event "only-p1" from time 10: new/, 20_000);
    const replaying = await startSerf('s3', `${ip(3)}:${GOSSIP}`, RPC3);
    const ignoring = await startSerf('s4', `${ip(4)}:${GOSSIP}`, RPC4);
    await run('serf', ['join', '-replay', `-rpc-addr=${replaying.rpc}`, `${ip(12)}:${GOSSIP}`]);
    await run('serf', ['join', `-rpc-addr=${ignoring.rpc}`, `${ip(12)}:${GOSSIP}`]);
    // the join's push/pull with p2 is done when `serf join` returns
    await eventually(
      async () => received(replaying, 'only-p1'),
      (n) => n > 0,
      's3 to replay only-p1',
      2000,
    );
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    assert.equal(received(replaying, 'only-p1'), 1);
    assert.equal(received(ignoring, 'only-p1'), 0);
    cluster.agents.push(replaying, ignoring);
  });

  it('drops an oversized or malformed event with a log line, and keeps passing events on', async () => {
    const p1 = cluster.ours[0]!;
    // a serf message (the datagram but its first byte) of 512 bytes, serf's limit, passes; one byte more does not
    const fill = 32 + 512 - (userEvent(20, 'largest', Buffer.alloc(32)).length - 1);
    const max = userEvent(20, 'largest', Buffer.alloc(fill, 0x61));
    const tooBig = userEvent(21, 'too-big', Buffer.alloc(fill + 1, 0x61));
    assert.deepEqual([max.length - 1, tooBig.length - 1], [512, 513]);
    await sendTo(11, tooBig);
    await p1.waitFor(/\[WARNING\] plugin\/gossip: serf: dropping user event "too-big": an encoded message of 513 bytes exceeds the limit of 512 bytes from=/);
    await sendTo(11, Buffer.from([MessageType.user, SerfMessageType.userEvent, 0x81, 0xa5, ...Buffer.from('LTime'), 0xa1, 0x78]));
    await p1.waitFor(/\[ERROR\] plugin\/gossip: serf: Error decoding user event message: msgpack: field LTime is not an unsigned integer from=/);
    await sendTo(11, Buffer.from([MessageType.user, SerfMessageType.userEvent, 0x84, 0xa5]));
    await sendTo(11, max);
    await onEveryAgentOnce('largest');
    for (const a of cluster.agents) assert.equal(received(a, 'too-big'), 0, a.rpc);
  });
});

describe('serf agents after all of the above', () => {
  it('logged no WARN or ERR from gossip', () => {
    for (const a of cluster.agents)
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
