// Stage 3: registry replication between two of our nodes over gossip.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { defaultLANConfig } from '../src/gossip/config.js';
import { Memberlist } from '../src/gossip/memberlist.js';
import { PODSWARM_ROLE, RegistryReplicator } from '../src/replication/replicator.js';
import { Registry } from '../src/registry/registry.js';
import { sourceKind } from '../src/sources/source-id.js';
import type { Endpoint } from '../src/registry/types.js';
import { freePorts } from './helpers/ports.js';

const open: Memberlist[] = [];
afterEach(async () => {
  for (const ml of open.splice(0)) await ml.shutdown();
});

function node(name: string, addr: string, port: number): { ml: Memberlist; reg: Registry; rep: RegistryReplicator } {
  const reg = new Registry();
  const rep = new RegistryReplicator(reg, {
    ...defaultLANConfig(name),
    bindAddr: addr,
    bindPort: port,
    probeIntervalMs: 200,
    probeTimeoutMs: 100,
    gossipIntervalMs: 50,
    suspicionMult: 3,
    pushPullIntervalMs: 1000,
    tcpTimeoutMs: 1000,
    tags: { role: PODSWARM_ROLE },
  });
  open.push(rep.ml);
  rep.start();
  return { ml: rep.ml, reg, rep };
}

const ep = (name: string, address: string, nodeName: string): Endpoint => ({
  namespace: 'default',
  service: 'web',
  name,
  nodeName,
  address,
  ports: [{ name: 'http', port: 80, protocol: 'tcp' }],
  healthy: true,
  updatedAt: Date.now(),
});

/** Resolves once `pred` holds, re-checking on every registry change; bounded. */
function until(reg: Registry, pred: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  if (pred()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reg.off('change', check);
      reject(new Error(`timed out: ${what}`));
    }, timeoutMs);
    const check = (): void => {
      if (!pred()) return;
      clearTimeout(timer);
      reg.off('change', check);
      resolve();
    };
    reg.on('change', check);
  });
}

const addrs = (reg: Registry): string[] => (reg.lookup('default', 'web')?.healthy ?? []).map((e) => e.address).sort();

describe('registry replication over gossip', () => {
  it('replicates endpoints, tombstones, drops a dead owner at once and restores it on rejoin', async () => {
    const [portA, portB] = await freePorts(2);
    const a = node('ra', '127.0.0.2', portA);
    const b = node('rb', '127.0.0.3', portB);
    a.reg.upsertEndpoint('api', ep('web-1', '10.0.0.1', 'ra'));
    await a.ml.start();
    await b.ml.start();
    await b.ml.join([`127.0.0.2:${portA}`]);
    // push/pull on join carries the existing endpoint
    await until(b.reg, () => addrs(b.reg).join() === '10.0.0.1', 'initial state');
    // a broadcast carries a new one
    a.reg.upsertEndpoint('api', ep('web-2', '10.0.0.2', 'ra'));
    await until(b.reg, () => addrs(b.reg).join() === '10.0.0.1,10.0.0.2', 'upsert');
    // and a tombstone removes one
    a.reg.removeEndpoint('api', 'default', 'web', 'web-1');
    await until(b.reg, () => addrs(b.reg).join() === '10.0.0.2', 'tombstone');
    // b's own endpoints flow the other way
    b.reg.upsertEndpoint('api', ep('web-3', '10.0.0.3', 'rb'));
    await until(a.reg, () => addrs(a.reg).join() === '10.0.0.2,10.0.0.3', 'reverse');

    // a crashes: its endpoints leave b's answers as soon as it is declared dead
    await a.ml.shutdown();
    await until(b.reg, () => addrs(b.reg).join() === '10.0.0.3', 'dead owner removed', 10000);
    assert.deepEqual(
      b.reg.sourceIds().filter((s) => sourceKind(s) === 'gossip'),
      [],
    );

    // a comes back under the same name with its registry: entries return
    const a2 = node('ra', '127.0.0.2', portA);
    a2.reg.upsertEndpoint('api', ep('web-2', '10.0.0.2', 'ra'));
    await a2.ml.start();
    await a2.ml.join([`127.0.0.3:${portB}`]);
    await until(b.reg, () => addrs(b.reg).join() === '10.0.0.2,10.0.0.3', 'rejoin restores', 10000);
    await until(a2.reg, () => addrs(a2.reg).join() === '10.0.0.2,10.0.0.3', 'rejoined node learns b');

    // graceful leave also removes at once
    await a2.ml.leave(2000);
    await until(b.reg, () => addrs(b.reg).join() === '10.0.0.3', 'left owner removed');
  });
});
