// The feed of this node's own registry entries that gossip and etcd publish:
// only what changed, nothing from remote sources, nothing for a rebuilt
// but identical object.
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { type LocalChange, LocalChanges } from '../src/registry/local-changes.js';
import { Registry } from '../src/registry/registry.js';
import type { Endpoint } from '../src/registry/types.js';

const ep = (name: string, address: string, healthy = true): Endpoint => ({
  namespace: 'shop',
  service: 'web',
  name,
  nodeName: 'n1',
  address,
  ports: [{ name: 'http', port: 80, protocol: 'tcp' }],
  healthy,
  updatedAt: 1,
});

function feed(reg: Registry): { changes: LocalChange[][]; lc: LocalChanges; initial: LocalChange[] } {
  const changes: LocalChange[][] = [];
  const lc = new LocalChanges(reg, (c) => changes.push(c));
  return { changes, lc, initial: lc.start() };
}

describe('local changes feed', () => {
  it('starts with every local entry and leaves out remote sources', () => {
    const reg = new Registry();
    reg.setSource('file:/r.yaml', { services: [{ namespace: 'shop', name: 'web', ports: [] }], endpoints: [ep('a', '203.0.113.1')] });
    reg.setSource('gossip:n2', { services: [], endpoints: [ep('b', '203.0.113.2')] });
    reg.setSource('etcd:n3', { services: [], endpoints: [ep('c', '203.0.113.3')] });
    const { initial, lc } = feed(reg);
    assert.deepEqual(initial.map((c) => c.key).sort(), ['e:shop/web/a', 's:shop/web']);
    assert.deepEqual([...lc.current().keys()].sort(), ['e:shop/web/a', 's:shop/web']);
    lc.stop();
  });

  it('batches what changed per macrotask: upserts, removals, and nothing for identical content', async () => {
    const reg = new Registry();
    reg.setSource('api', { services: [], endpoints: [ep('a', '203.0.113.1'), ep('b', '203.0.113.2')] });
    const { changes, lc } = feed(reg);
    reg.upsertEndpoint('api', ep('c', '203.0.113.3'));
    reg.setHealthy('api', 'shop', 'web', 'a', false);
    reg.removeEndpoint('api', 'shop', 'web', 'b');
    reg.upsertEndpoint('gossip:n2', ep('z', '203.0.113.9'));
    await tick();
    assert.equal(changes.length, 1);
    const batch = new Map(changes[0]!.map((c) => [c.key, c.value]));
    assert.deepEqual([...batch.keys()].sort(), ['e:shop/web/a', 'e:shop/web/b', 'e:shop/web/c']);
    assert.equal(batch.get('e:shop/web/b'), null);
    const a = batch.get('e:shop/web/a');
    assert.equal(a?.kind === 'endpoint' && a.endpoint.healthy, false);
    // a rescan that rebuilds the same content as new objects announces nothing
    reg.setSource('api', { services: [], endpoints: reg.snapshot('api').endpoints.map((e) => ({ ...e })) });
    await tick();
    assert.equal(changes.length, 1);
    lc.stop();
  });

  it('a key another local source still holds is not withdrawn', async () => {
    const reg = new Registry();
    reg.setSource('file:/r.yaml', { services: [], endpoints: [ep('a', '203.0.113.1')] });
    reg.setSource('api', { services: [], endpoints: [ep('a', '203.0.113.1')] });
    const { changes, lc } = feed(reg);
    reg.removeSource('api');
    await tick();
    assert.deepEqual(changes, []);
    reg.removeSource('file:/r.yaml');
    await tick();
    assert.deepEqual(changes, [[{ key: 'e:shop/web/a', value: null }]]);
    lc.stop();
  });
});
