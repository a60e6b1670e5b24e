// Cluster labels (memberlist's `[244][len][label]` header): nodes with the same
// label form a cluster; a node with another label, or none, is refused. serf
// 0.8 (the Debian package) predates labels, so this runs between our nodes.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { defaultLANConfig } from '../src/gossip/config.js';
import { Memberlist } from '../src/gossip/memberlist.js';
import { freePorts } from './helpers/ports.js';

const open: Memberlist[] = [];
afterEach(async () => {
  for (const ml of open.splice(0)) await ml.shutdown();
});

async function node(name: string, port: number, label: string, logs: string[] = []): Promise<Memberlist> {
  const keep = (msg: string): void => void logs.push(msg);
  const logger = { debug: keep, info: keep, warn: keep, error: keep };
  const ml = new Memberlist({ ...defaultLANConfig(name), bindAddr: '127.0.0.1', bindPort: port, label, tcpTimeoutMs: 1000, logger });
  open.push(ml);
  await ml.start();
  return ml;
}

describe('gossip labels', () => {
  it('joins a node with the same label, both ways', async () => {
    const [portA, portB] = await freePorts(2);
    const a = await node('a', portA, 'prod');
    const b = await node('b', portB, 'prod');
    assert.equal(await b.join([`127.0.0.1:${portA}`]), 1);
    assert.deepEqual(
      b
        .liveMembers()
        .map((m) => m.name)
        .sort(),
      ['a', 'b'],
    );
    assert.deepEqual(
      a
        .liveMembers()
        .map((m) => m.name)
        .sort(),
      ['a', 'b'],
    );
  });

  it('refuses a node with another label or none, and says why in the refusing node log', async () => {
    const logs: string[] = [];
    const [portA, portDev, portPlain] = await freePorts(3);
    const refused = new RegExp(`failed to join 127\\.0\\.0\\.1:${portA}`);
    const a = await node('a', portA, 'prod', logs);
    const dev = await node('dev', portDev, 'dev');
    await assert.rejects(dev.join([`127.0.0.1:${portA}`]), refused);
    const plain = await node('plain', portPlain, '');
    await assert.rejects(plain.join([`127.0.0.1:${portA}`]), refused);
    assert.deepEqual(
      a.liveMembers().map((m) => m.name),
      ['a'],
    );
    assert.ok(
      logs.some((l) => /label/.test(l)),
      logs.join('\n'),
    );
  });
});
