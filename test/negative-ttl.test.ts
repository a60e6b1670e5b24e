// Negative answers of the registry zones carry their own short TTL (RFC 2308:
// the SOA's TTL and MINIMUM), so a cache in front of the node shows a service
// registered a moment after a lookup failed. A real downstream cache
// (dnsmasq, which keeps NXDOMAIN as long as the SOA says) is the witness.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dig } from './helpers/dig.js';
import { dnsmasq, stopAllDnsmasq, type Dnsmasq } from './helpers/dnsmasq.js';
import { eventually } from './helpers/eventually.js';
import { freePorts } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

const [PORT, CACHE_PORT] = await freePorts(2);

const registry = (services: string[]): string =>
  `services:\n${services.map((s) => `  - name: ${s}\n    namespace: shop\n    endpoints:\n      - { address: 10.0.40.${services.indexOf(s) + 1} }\n`).join('')}`;

describe('negative TTL', () => {
  let server: RunningServer;
  let cache: Dnsmasq;

  before(async () => {
    server = await startServer({
      files: { 'services.yaml': registry(['web']) },
      corefile: `cluster.local:${PORT} {
        bind 127.0.0.1
        cluster {
          registry {{dir}}/services.yaml
          negative_ttl 2
        }
        srv {
          negative_ttl 2
        }
      }`,
    });
    cache = await dnsmasq(CACHE_PORT, [], [`--server=/cluster.local/127.0.0.1#${PORT}`, '--cache-size=1000']);
  });

  after(async () => {
    await cache?.stop();
    stopAllDnsmasq();
    await server?.stop();
  });

  it('negative_ttl sets the SOA TTL and MINIMUM of NXDOMAIN and NODATA; positive answers keep 60 s', async () => {
    const nx = await dig(PORT, 'api.shop.cluster.local', 'A');
    assert.equal(nx.status, 'NXDOMAIN');
    assert.deepEqual(
      nx.authority.map((r) => [r.type, r.ttl]),
      [['SOA', 2]],
    );
    assert.match(nx.authority[0]!.data, / 2$/);
    const nodata = await dig(PORT, 'web.shop.cluster.local', 'AAAA');
    assert.deepEqual([nodata.status, nodata.authority.map((r) => r.ttl)], ['NOERROR', [2]]);
    const srv = await dig(PORT, '_http._tcp.web.shop.cluster.local', 'SRV');
    assert.deepEqual([srv.status, srv.authority.map((r) => r.ttl)], ['NXDOMAIN', [2]]);
    assert.deepEqual(
      (await dig(PORT, 'web.shop.cluster.local', 'A')).answer.map((r) => [r.data, r.ttl]),
      [['10.0.40.1', 60]],
    );
  });

  it('a cache in front of the node shows a service registered after a failed lookup', async () => {
    const first = await dig(CACHE_PORT, 'api.shop.cluster.local', 'A', [], '127.0.0.1');
    assert.equal(first.status, 'NXDOMAIN');
    assert.ok(first.authority[0]!.ttl <= 2, `the cache keeps the NXDOMAIN at most 2 s (SOA TTL ${first.authority[0]!.ttl})`);
    writeFileSync(join(server.dir, 'services.yaml'), registry(['web', 'api']));
    // With the positive TTL (60 s) as the negative one, the cache would hide api for a minute.
    const found = await eventually(
      () => dig(CACHE_PORT, 'api.shop.cluster.local', 'A'),
      (r) => r.status === 'NOERROR',
      'the cache to ask again',
      15_000,
      200,
    );
    assert.deepEqual(
      found.answer.map((r) => r.data),
      ['10.0.40.2'],
    );
  });
});
