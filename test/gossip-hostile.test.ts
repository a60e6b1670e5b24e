// A hostile peer against a real podswarm-dns process on loopback: a forged
// 20 MiB plaintext push/pull streamed in small TCP chunks (150,000 node
// entries and a 10 MiB user state, inside memberlist's limits) and a real Go
// memberlist node joining with a 20 MiB state (plaintext, and LZW-compressed),
// while dig asks the node in a loop; and peer text with a newline in it (a cluster label, a
// node name) that would forge a log line if it were logged as it came.
// Ports from helpers/ports.ts.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MessageType, NodeStateType, type PushNodeState, encodePing, encodePushPull } from '../src/gossip/messages.js';
import { StreamMessageParser } from '../src/gossip/net.js';
import { labelHeader } from '../src/gossip/label.js';
import { dig, parseDig } from './helpers/dig.js';
import { startGoMemberlist } from './helpers/go-memberlist.js';
import { freePorts } from './helpers/ports.js';
import { sendDatagram } from './helpers/raw.js';
import { startServer, type RunningServer } from './helpers/server.js';

const [DNS, GOSSIP, GO_PORT] = await freePorts(3);
const HOST = '127.0.0.1';
const NODES = 150_000;
const USER_STATE = 10 * 1024 * 1024;
const CHUNK = 16 * 1024;
const NOSEC = { keyring: null, encryptionVersion: 1, label: '', verifyIncoming: true, verifyOutgoing: true } as const;

let server: RunningServer;

before(async () => {
  server = await startServer({
    corefile: `cluster.local:${DNS} {
    bind ${HOST}
    gossip {
        bind ${HOST}:${GOSSIP}
    }
    cluster cluster.local {
        registry {{dir}}/services.yaml
    }
}
`,
    files: { 'services.yaml': 'services:\n  - name: web\n    endpoints:\n      - { address: 203.0.113.10 }\n' },
    args: ['-node', 'target'],
  });
  await server.waitFor(/gossiping on/);
});

after(async () => {
  await server?.stop('SIGKILL');
});

/** dig in a loop, each query with a 1 s timeout, while `more()`: 'ok' per right answer, else the status (TIMEOUT). */
async function digLoop(statuses: string[], more: () => boolean): Promise<void> {
  while (more()) {
    const r = await dig(DNS, 'web.default.cluster.local', 'A', ['+time=1']).catch((err: { stdout?: string }) => parseDig(err.stdout ?? ''));
    statuses.push(r.status === 'NOERROR' && r.answer[0]?.data === '203.0.113.10' ? 'ok' : r.status);
  }
}

/** Node entries of members this node never heard of, as dead: merging them costs nothing, reading them is the whole work. */
function forgedPushPull(): Buffer {
  const nodes: PushNodeState[] = [];
  for (let i = 0; i < NODES; i++) {
    nodes.push({
      name: `forged-${i}`,
      addr: Buffer.from([203, 0, 113, i % 250]),
      port: 7946,
      meta: null,
      incarnation: 1,
      state: NodeStateType.dead,
      vsn: Buffer.from([1, 5, 2, 2, 5, 4]),
    });
  }
  return encodePushPull(false, nodes, Buffer.alloc(USER_STATE, 0x20));
}

/** Writes `msg` in CHUNK-sized pieces, honouring back-pressure; resolves with the node's reply, parsed. */
function streamAndReadReply(msg: Buffer): Promise<{ type: number; nodes: number }> {
  return new Promise((resolve, reject) => {
    const sock = connect(GOSSIP, HOST);
    const parser = new StreamMessageParser(NOSEC);
    let got = Buffer.alloc(0);
    sock.on('data', (d) => {
      got = Buffer.concat([got, d]);
      const reply = parser.feed(got);
      if (reply) {
        sock.destroy();
        resolve({ type: reply.type, nodes: reply.pushPull?.nodes.length ?? -1 });
      }
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`connection closed before a reply (${got.length} bytes)`)));
    sock.on('connect', async () => {
      for (let at = 0; at < msg.length; at += CHUNK) {
        if (!sock.write(msg.subarray(at, at + CHUNK))) await new Promise((r) => sock.once('drain', r));
      }
    });
  });
}

describe('a forged 20 MiB push/pull', () => {
  it('is read while DNS answers every query, and the node replies with its state', async () => {
    const msg = forgedPushPull();
    assert.ok(msg.length >= 20 * 1024 * 1024, `the forged push/pull has ${msg.length} bytes`);
    let streaming = true;
    const statuses: string[] = [];
    const digs = digLoop(statuses, () => streaming);
    const reply = await streamAndReadReply(msg)
      .catch((err: Error) => assert.fail(`${err.message}\n${server.output()}`))
      .finally(() => (streaming = false));
    await digs;
    assert.equal(reply.type, MessageType.pushPull);
    assert.equal(reply.nodes, 1, 'the reply lists the node itself');
    assert.ok(statuses.length > 0);
    assert.deepEqual(
      statuses.filter((s) => s !== 'ok'),
      [],
      `${statuses.length} queries while streaming`,
    );
    assert.doesNotMatch(server.output(), /failed to receive|stream exceeds/);
  });
});

describe('a real Go memberlist node with a 20 MiB state', () => {
  for (const compress of [false, true]) {
    const how = compress ? 'an LZW-compressed' : 'a plaintext';
    it(`joins by ${how} push/pull of 20 MiB while DNS answers every query`, async () => {
      let streaming = true;
      const statuses: string[] = [];
      const digs = digLoop(statuses, () => streaming);
      const name = compress ? 'g-lzw' : 'g-plain';
      // memberlist's limit for a push/pull's user state, exactly; compressed, 20 MiB of zeros are 16 KB on the wire
      const go = await startGoMemberlist({ name, bind: `${HOST}:${GO_PORT}`, join: [`${HOST}:${GOSSIP}`], stateBytes: 20 * 1024 * 1024, compress }).finally(
        () => (streaming = false),
      );
      await digs;
      try {
        await go.waitFor(/^join target$/m);
        assert.doesNotMatch(go.output(), /join-failed/);
        await server.waitFor(new RegExp(`member ${name} joined`));
        assert.ok(statuses.length > 0);
        assert.deepEqual(
          statuses.filter((s) => s !== 'ok'),
          [],
          `${statuses.length} queries while it joined`,
        );
      } finally {
        await go.stop('SIGKILL');
      }
    });
  }
});

describe('peer text in log lines', () => {
  const FORGED = '[INFO] plugin/gossip: member evil joined (203.0.113.66:7946)';

  const sendUdp = (buf: Buffer): Promise<void> => sendDatagram(HOST, GOSSIP, buf);

  const forgedLine = (): boolean =>
    server
      .output()
      .split('\n')
      .some((l) => l.startsWith(FORGED) || l.startsWith('[INFO] plugin/gossip: member evil'));

  it('logs a packet label with a newline escaped, as Go %q', async () => {
    await sendUdp(Buffer.concat([labelHeader(`x\n${FORGED}`), encodePing({ seqNo: 1, node: 'target', sourceAddr: null, sourcePort: 0, sourceNode: '' })]));
    const line = await server.waitFor(/unacceptable label "x\\n\[INFO\] plugin\/gossip: member evil joined \(203\.0\.113\.66:7946\)" from=127\.0\.0\.1:\d+/);
    assert.ok(line);
    assert.equal(forgedLine(), false);
  });

  it('logs a stream label with a newline escaped', async () => {
    const sock = connect(GOSSIP, HOST);
    await new Promise((r) => sock.once('connect', r));
    sock.end(labelHeader(`y\n${FORGED}`));
    await server.waitFor(/discarding stream with unacceptable label "y\\n\[INFO\] plugin\/gossip: member evil joined/);
    assert.equal(forgedLine(), false);
  });

  it('logs a node name with a newline escaped', async () => {
    await sendUdp(encodePing({ seqNo: 2, node: `z\n${FORGED}`, sourceAddr: null, sourcePort: 0, sourceNode: '' }));
    await server.waitFor(/got ping for unexpected node "z\\n\[INFO\] plugin\/gossip: member evil joined/);
    assert.equal(forgedLine(), false);
  });
});
