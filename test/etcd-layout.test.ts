// What the etcd backend writes for this node's entries, and what it takes
// back from etcd: a round trip, and every value it must refuse (etcd is
// shared; a bad value costs only itself). The backend against a real etcd:
// etcd-cluster.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Layout, localEntry, readEntry, skydnsPrefix } from '../src/etcd/layout.js';
import type { Endpoint } from '../src/registry/types.js';

const layout: Layout = { endpointsPrefix: skydnsPrefix('/skydns', 'cluster.local'), servicesPrefix: '/podswarm-dns/services/', ttl: 60 };
const endpoint: Endpoint = {
  namespace: 'shop',
  service: 'web',
  name: 'web-0',
  nodeName: 'host2',
  address: '203.0.113.7',
  ports: [{ name: 'http', port: 8080, protocol: 'tcp' }],
  healthy: true,
  updatedAt: 1_796_000_000_000,
};
const change = { key: 'e:shop/web/web-0', value: { kind: 'endpoint' as const, endpoint } };

describe('etcd layout', () => {
  it('puts the zone’s SkyDNS tree where CoreDNS’s msg.Path looks', () => {
    assert.equal(skydnsPrefix('/skydns', 'cluster.local'), '/skydns/local/cluster/');
    assert.equal(skydnsPrefix('/dns/', 'Example.ORG.'), '/dns/org/example/');
  });

  it('writes a healthy endpoint under its name and owner, with SkyDNS’s fields and ours', () => {
    const { key, put } = localEntry(layout, 'Host_1.example', change);
    assert.equal(key, '/skydns/local/cluster/shop/web/web-0-host-1-example');
    assert.deepEqual(JSON.parse(put!), { host: '203.0.113.7', port: 8080, ttl: 60, podswarm: { owner: 'Host_1.example', endpoint } });
    assert.deepEqual(readEntry(layout, key, put!), { owner: 'Host_1.example', value: change.value });
  });

  it('deletes the key of an endpoint that is gone or unhealthy', () => {
    assert.deepEqual(localEntry(layout, 'n1', { key: change.key, value: null }), { key: '/skydns/local/cluster/shop/web/web-0-n1' });
    assert.deepEqual(localEntry(layout, 'n1', { key: change.key, value: { kind: 'endpoint', endpoint: { ...endpoint, healthy: false } } }), {
      key: '/skydns/local/cluster/shop/web/web-0-n1',
    });
  });

  it('writes a service definition outside the SkyDNS tree', () => {
    const service = { namespace: 'shop', name: 'web', ports: [{ name: 'http', port: 8080, protocol: 'tcp' as const }] };
    const { key, put } = localEntry(layout, 'n1', { key: 's:shop/web', value: { kind: 'service', service } });
    assert.equal(key, '/podswarm-dns/services/shop/web/n1');
    assert.deepEqual(readEntry(layout, key, put!), { owner: 'n1', value: { kind: 'service', service } });
  });

  it('refuses what podswarm-dns would not have written, each with its reason', () => {
    const key = '/skydns/local/cluster/shop/web/web-0-n1';
    const value = (e: unknown, owner: unknown = 'n1'): string => JSON.stringify({ host: '203.0.113.7', podswarm: { owner, endpoint: e } });
    const cases: Array<[string, string, string, string]> = [
      [key, 'not json', 'format', 'value is not JSON'],
      [key, JSON.stringify({ host: '203.0.113.7', port: 80 }), 'format', 'no podswarm field (not written by podswarm-dns)'],
      [key, value(endpoint, 7), 'owner', 'no owning node'],
      [key, value({ ...endpoint, healthy: false }), 'value', 'an endpoint in the SkyDNS tree is not healthy'],
      [key, value({ ...endpoint, address: '203.0.113.007' }), 'address', '"203.0.113.007" is not an IP address in canonical form'],
      [key, value({ ...endpoint, ports: [{ name: 'http', port: 0, protocol: 'tcp' }] }), 'port', 'port 0 is not in 1-65535'],
      [key, value(endpoint, 'n1\u0007'), 'owner', 'not a node name (1-128 bytes, no control characters)'],
      ['/skydns/local/cluster/shop/web/db-0-n1', value(endpoint), 'key', 'the value belongs at /skydns/local/cluster/shop/web/web-0-n1'],
      [key, value(endpoint, 'n2'), 'key', 'the value belongs at /skydns/local/cluster/shop/web/web-0-n2'],
    ];
    for (const [k, raw, reason, detail] of cases) {
      const r = readEntry(layout, k, raw);
      assert.ok('reason' in r, `${raw} refused`);
      assert.deepEqual([r.reason, r.detail], [reason, detail], raw);
    }
  });
});
