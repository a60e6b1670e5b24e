// Stage 2: our SWIM node against real `serf agent` processes on loopback
// (ports from helpers/ports.ts). Missing serf makes these tests fail, never skip.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, afterEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type GossipConfig, type Logger, defaultLANConfig } from '../src/gossip/config.js';
import { type GossipEvents, Memberlist, type NodeInfo } from '../src/gossip/memberlist.js';
import { Keyring } from '../src/gossip/security.js';
import { freePorts } from './helpers/ports.js';
import { serfMembers, startSerf, stopAllSerf, stopSerf, waitSerf } from './helpers/serf.js';

const run = promisify(execFile);

const nodes = new Set<Memberlist>();

/** Resolves on the first `event` for node `name`; bounded by a deadline. */
function nextEvent(ml: Memberlist, event: keyof GossipEvents, name: string, timeoutMs = 15000): Promise<NodeInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ml.off(event, on);
      reject(new Error(`timed out waiting for ${event} of ${name}`));
    }, timeoutMs);
    const on = (n: NodeInfo): void => {
      if (n.name !== name) return;
      clearTimeout(timer);
      ml.off(event, on);
      resolve(n);
    };
    ml.on(event, on);
  });
}

function captureLog(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const put = (level: string) => (m: string) => void lines.push(`[${level}] ${m}`);
  return { lines, logger: { debug: put('DEBUG'), info: put('INFO'), warn: put('WARN'), error: put('ERR') } };
}

/** Short intervals so failures are detected within a couple of seconds. */
function fastNode(name: string, bindAddr: string, bindPort: number, extra: Partial<GossipConfig> = {}): Memberlist {
  const ml = new Memberlist({
    ...defaultLANConfig(name),
    bindAddr,
    bindPort,
    probeIntervalMs: 200,
    probeTimeoutMs: 100,
    gossipIntervalMs: 50,
    suspicionMult: 3,
    pushPullIntervalMs: 2000,
    tcpTimeoutMs: 2000,
    gossipToTheDeadTimeMs: 5000,
    tags: { role: 'dns', zone: 'lab' },
    ...extra,
  });
  nodes.add(ml);
  return ml;
}

afterEach(async () => {
  for (const ml of nodes) await ml.shutdown();
  nodes.clear();
  await stopAllSerf();
});

after(stopAllSerf);

describe('gossip interop with serf agents', () => {
  it('joins a serf agent: serf lists our node alive with tags, we see serf with its tags', async () => {
    const [serf1Port, serf1Rpc, ts1Port] = await freePorts(3);
    const serf = await startSerf('serf1', `127.0.0.1:${serf1Port}`, serf1Rpc, ['-tag', 'role=web']);
    const ml = fastNode('ts1', '127.0.0.2', ts1Port);
    await ml.start();
    const joined = nextEvent(ml, 'join', 'serf1');
    assert.equal(await ml.join([`127.0.0.1:${serf1Port}`]), 1);
    const s = await joined;
    assert.deepEqual(s.tags, { role: 'web' });
    assert.equal(s.protocolMax, 5);
    const m = await waitSerf(serf, (m) => m.get('ts1')?.status === 'alive', 'ts1 alive');
    assert.equal(m.get('ts1')!.addr, `127.0.0.2:${ts1Port}`);
    assert.deepEqual(m.get('ts1')!.tags, { role: 'dns', zone: 'lab' });
    // stays alive through several probe rounds in both directions
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await serfMembers(serf)).get('ts1')!.status, 'alive');
    assert.equal(ml.members().find((n) => n.name === 'serf1')!.status, 'alive');
    assert.doesNotMatch(serf.log(), /\[ERR\]/);
  });

  it('accepts a join from serf and updates tags', async () => {
    const [serf2Port, serf2Rpc, ts2Port] = await freePorts(3);
    const serf = await startSerf('serf2', `127.0.0.1:${serf2Port}`, serf2Rpc);
    const ml = fastNode('ts2', '127.0.0.2', ts2Port);
    await ml.start();
    const joined = nextEvent(ml, 'join', 'serf2');
    await run('serf', ['join', `-rpc-addr=${serf.rpc}`, `127.0.0.2:${ts2Port}`]);
    await joined;
    await waitSerf(serf, (m) => m.get('ts2')?.status === 'alive', 'ts2 alive');
    ml.updateTags({ role: 'dns', zone: 'moved' });
    await waitSerf(serf, (m) => m.get('ts2')?.tags.zone === 'moved', 'ts2 tag update');
  });

  it('is marked failed by serf when our node stops without leaving', async () => {
    const [serf3Port, serf3Rpc, ts3Port] = await freePorts(3);
    const serf = await startSerf('serf3', `127.0.0.1:${serf3Port}`, serf3Rpc);
    const ml = fastNode('ts3', '127.0.0.2', ts3Port);
    await ml.start();
    await ml.join([`127.0.0.1:${serf3Port}`]);
    await waitSerf(serf, (m) => m.get('ts3')?.status === 'alive', 'ts3 alive');
    await ml.shutdown();
    await waitSerf(serf, (m) => m.get('ts3')?.status === 'failed', 'ts3 failed');
  });

  it('marks a killed serf agent dead', async () => {
    const [serf4Port, serf4Rpc, ts4Port] = await freePorts(3);
    const serf = await startSerf('serf4', `127.0.0.1:${serf4Port}`, serf4Rpc);
    const ml = fastNode('ts4', '127.0.0.2', ts4Port);
    await ml.start();
    await ml.join([`127.0.0.1:${serf4Port}`]);
    await waitSerf(serf, (m) => m.get('ts4')?.status === 'alive', 'ts4 alive');
    const dead = nextEvent(ml, 'dead', 'serf4');
    const t0 = Date.now();
    await stopSerf(serf, 'SIGKILL');
    await dead;
    assert.ok(Date.now() - t0 < 10000);
    assert.equal(ml.members().find((n) => n.name === 'serf4')!.status, 'dead');
  });

  it('leaves gracefully: serf shows left; a serf leave shows as leave', async () => {
    const [serf5Port, serf5Rpc, serf6Port, serf6Rpc, ts5Port] = await freePorts(5);
    const serf = await startSerf('serf5', `127.0.0.1:${serf5Port}`, serf5Rpc);
    const other = await startSerf('serf6', `127.0.0.1:${serf6Port}`, serf6Rpc);
    const ml = fastNode('ts5', '127.0.0.2', ts5Port);
    await ml.start();
    await ml.join([`127.0.0.1:${serf5Port}`]);
    const joined = nextEvent(ml, 'join', 'serf6');
    await run('serf', ['join', `-rpc-addr=${other.rpc}`, `127.0.0.1:${serf5Port}`]);
    await joined;
    const left = nextEvent(ml, 'leave', 'serf6');
    await stopSerf(other, 'SIGINT');
    await left;
    await waitSerf(serf, (m) => m.get('ts5')?.status === 'alive', 'ts5 alive');
    await ml.leave(3000);
    await ml.shutdown();
    await waitSerf(serf, (m) => m.get('ts5')?.status === 'left', 'ts5 left');
  });

  it('interoperates with -encrypt using the same key', async () => {
    const [serf7Port, serf7Rpc, ts7Port] = await freePorts(3);
    const key = randomBytes(32).toString('base64');
    const serf = await startSerf('serf7', `127.0.0.1:${serf7Port}`, serf7Rpc, [`-encrypt=${key}`]);
    const { logger, lines } = captureLog();
    const ml = fastNode('ts7', '127.0.0.2', ts7Port, { keyring: Keyring.fromBase64(key), logger });
    await ml.start();
    const joined = nextEvent(ml, 'join', 'serf7');
    await ml.join([`127.0.0.1:${serf7Port}`]);
    await joined;
    await waitSerf(serf, (m) => m.get('ts7')?.status === 'alive', 'ts7 alive (encrypted)');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(ml.members().find((n) => n.name === 'serf7')!.status, 'alive');
    assert.deepEqual(
      lines.filter((l) => l.startsWith('[ERR]')),
      [],
    );
    await ml.leave(3000);
    await ml.shutdown();
    await waitSerf(serf, (m) => m.get('ts7')?.status === 'left', 'ts7 left (encrypted)');
  });

  it('refuses membership with a wrong key and says why', async () => {
    const [serf8Port, serf8Rpc, ts8Port] = await freePorts(3);
    const serf = await startSerf('serf8', `127.0.0.1:${serf8Port}`, serf8Rpc, [`-encrypt=${randomBytes(32).toString('base64')}`]);
    const { logger, lines } = captureLog();
    const ml = fastNode('ts8', '127.0.0.2', ts8Port, { keyring: new Keyring([randomBytes(32)]), logger });
    await ml.start();
    await assert.rejects(ml.join([`127.0.0.1:${serf8Port}`]), /no installed keys could decrypt the message/);
    // at DEBUG: the caller reports the attempt (plugins/gossip logs one WARNING per attempt)
    assert.ok(
      lines.some((l) => l.startsWith('[DEBUG]') && new RegExp(`failed to join 127\\.0\\.0\\.1:${serf8Port}`).test(l)),
      lines.join('\n'),
    );
    // and serf's join towards us fails as well
    await assert.rejects(run('serf', ['join', `-rpc-addr=${serf.rpc}`, `127.0.0.2:${ts8Port}`]));
    assert.ok(
      lines.some((l) => /no installed keys could decrypt/.test(l)),
      lines.join('\n'),
    );
    assert.equal((await serfMembers(serf)).has('ts8'), false);
    assert.deepEqual(
      ml.members().map((n) => n.name),
      ['ts8'],
    );
  });

  it('rejects a plaintext peer when encryption is on', async () => {
    const [serf9Port, serf9Rpc, ts9Port] = await freePorts(3);
    await startSerf('serf9', `127.0.0.1:${serf9Port}`, serf9Rpc);
    const ml = fastNode('ts9', '127.0.0.2', ts9Port, { keyring: new Keyring([randomBytes(32)]) });
    await ml.start();
    await assert.rejects(ml.join([`127.0.0.1:${serf9Port}`]), /encryption is configured but remote state is not encrypted|not encrypted|EOF/);
  });
});

describe('two of our nodes with a serf agent', () => {
  it('carries user broadcasts and push/pull state through a mixed cluster', async () => {
    const [serf10Port, serf10Rpc, tsaPort, tsbPort] = await freePorts(4);
    const serf = await startSerf('serf10', `127.0.0.1:${serf10Port}`, serf10Rpc);
    const merged: string[] = [];
    let heard: (msg: string) => void = () => {};
    const got = new Promise<string>((resolve) => (heard = resolve));
    const a = fastNode('tsa', '127.0.0.2', tsaPort, { delegate: { localState: () => Buffer.from('state-of-a') } });
    const b = fastNode('tsb', '127.0.0.3', tsbPort, {
      delegate: { mergeRemoteState: (s) => void merged.push(s.toString()), onUserMessage: (m) => heard(m.toString()) },
    });
    await a.start();
    await b.start();
    await a.join([`127.0.0.1:${serf10Port}`]);
    const seen = nextEvent(b, 'join', 'tsa');
    await b.join([`127.0.0.1:${serf10Port}`]);
    await seen;
    a.sendUserBroadcast(Buffer.from('hello from a'));
    assert.equal(await got, 'hello from a');
    await b.join([`127.0.0.2:${tsaPort}`]);
    assert.ok(merged.includes('state-of-a'));
    await waitSerf(serf, (m) => m.get('tsa')?.status === 'alive' && m.get('tsb')?.status === 'alive', 'both alive');
    assert.doesNotMatch(serf.log(), /\[ERR\]/);
  });
});
