// The Kubernetes DNS specification's extra names, with dig against the real
// server: dns-version, ExternalName services from a registry file (a CNAME,
// and for A/AAAA the target's records: in the cluster zone from the
// registry, outside it through forward to a dnsmasq the test starts), pod
// records (`pods insecure|verified`), SRV weights per endpoint and the
// same-node order of one node's view of a two-node registry.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from './helpers/dig.js';
import { dnsmasq, stopAllDnsmasq, type Dnsmasq } from './helpers/dnsmasq.js';
import { freePorts } from './helpers/ports.js';
import { runCli, startServer, type RunningServer } from './helpers/server.js';

const [PORT, UPSTREAM, PORT_OFF] = await freePorts(3);
const OUTSIDE = 'db.outside.example';
const OUTSIDE_V4 = '203.0.113.80';

const REGISTRY = `node: n1
services:
  - name: web
    namespace: shop
    ports: [{ name: http, port: 8080 }]
    endpoints:
      - { name: far-a, address: 10.0.70.1, node: n2, weight: 10 }
      - { name: near, address: 10.0.70.2, weight: 70 }
      - { name: far-b, address: 10.0.70.3, node: n2 }
  - name: legacy
    namespace: shop
    external_name: ${OUTSIDE}.
  - name: alias
    namespace: shop
    external_name: web.shop.svc.cluster.local
  - name: loop
    namespace: shop
    external_name: loop.shop.svc.cluster.local
`;

const corefile = (port: number, extra: string): string => `cluster.local:${port} {
  bind 127.0.0.1
  srv {
    ${extra}
  }
  cluster {
    registry {{dir}}/services.yaml
    ${extra}
  }
  forward . 127.0.0.1:${UPSTREAM}
}`;

describe('Kubernetes names: dns-version, ExternalName, pods, weights, same node', () => {
  let server: RunningServer;
  let plain: RunningServer;
  let upstream: Dnsmasq;

  before(async () => {
    upstream = await dnsmasq(UPSTREAM, [`${OUTSIDE},${OUTSIDE_V4}`]);
    server = await startServer({ files: { 'services.yaml': REGISTRY }, corefile: corefile(PORT, 'same_node first'), args: ['-node', 'n1'] });
    plain = await startServer({ files: { 'services.yaml': REGISTRY }, corefile: corefile(PORT_OFF, ''), args: ['-node', 'n1'] });
  });

  after(async () => {
    await server?.stop();
    await plain?.stop();
    await upstream?.stop();
    stopAllDnsmasq();
  });

  it('dns-version.<zone> TXT is the specification version; other types NODATA', async () => {
    const r = await dig(PORT, 'dns-version.cluster.local', 'TXT');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(
      r.answer.map((a) => [a.name, a.type, a.data]),
      [['dns-version.cluster.local.', 'TXT', '"1.1.0"']],
    );
    const a = await dig(PORT, 'dns-version.cluster.local', 'A');
    assert.deepEqual([a.status, a.answer.length, a.authority.map((x) => x.type)], ['NOERROR', 0, ['SOA']]);
  });

  it('an ExternalName service outside the zone: CNAME plus the forwarded target records', async () => {
    for (const name of ['legacy.shop.svc.cluster.local', 'legacy.shop.cluster.local']) {
      const r = await dig(PORT, name, 'A');
      assert.equal(r.status, 'NOERROR', name);
      assert.deepEqual(
        r.answer.map((x) => [x.name, x.type, x.data]),
        [
          [`${name}.`, 'CNAME', `${OUTSIDE}.`],
          [`${OUTSIDE}.`, 'A', OUTSIDE_V4],
        ],
      );
      assert.ok(r.flags.includes('aa'), 'authoritative for the alias');
    }
    const cname = await dig(PORT, 'legacy.shop.svc.cluster.local', 'CNAME');
    assert.deepEqual(
      cname.answer.map((x) => [x.type, x.data]),
      [['CNAME', `${OUTSIDE}.`]],
    );
    const txt = await dig(PORT, 'legacy.shop.svc.cluster.local', 'TXT');
    assert.deepEqual(
      txt.answer.map((x) => [x.type, x.data]),
      [['CNAME', `${OUTSIDE}.`]],
      'other types: the CNAME for the client to follow',
    );
  });

  it('an ExternalName service inside the zone: CNAME plus the registry addresses; a loop ends', async () => {
    const r = await dig(PORT, 'alias.shop.svc.cluster.local', 'A');
    assert.deepEqual(
      r.answer.map((x) => [x.type, x.data]),
      [
        ['CNAME', 'web.shop.svc.cluster.local.'],
        ['A', '10.0.70.2'],
        ['A', '10.0.70.1'],
        ['A', '10.0.70.3'],
      ],
    );
    const loop = await dig(PORT, 'loop.shop.svc.cluster.local', 'A');
    assert.equal(loop.status, 'NOERROR');
    assert.deepEqual(
      loop.answer.map((x) => x.data),
      Array(9).fill('loop.shop.svc.cluster.local.'),
      'the CNAME chain stops after 8 hops',
    );
  });

  it('SRV weights per endpoint (equal shares without one); same_node first gives priority 0 to this node', async () => {
    const r = await dig(PORT, '_http._tcp.web.shop.svc.cluster.local', 'SRV');
    assert.deepEqual(
      r.answer.map((x) => x.data),
      ['0 70 8080 near.web.shop.svc.cluster.local.', '1 10 8080 far-a.web.shop.svc.cluster.local.', '1 33 8080 far-b.web.shop.svc.cluster.local.'],
    );
    const off = await dig(PORT_OFF, '_http._tcp.web.shop.svc.cluster.local', 'SRV');
    assert.deepEqual(
      off.answer.map((x) => x.data),
      ['0 10 8080 far-a.web.shop.svc.cluster.local.', '0 70 8080 near.web.shop.svc.cluster.local.', '0 33 8080 far-b.web.shop.svc.cluster.local.'],
    );
    const a = await dig(PORT, 'web.shop.cluster.local', 'A');
    assert.deepEqual(
      a.answer.map((x) => x.data),
      ['10.0.70.2', '10.0.70.1', '10.0.70.3'],
      'same_node first',
    );
    const aOff = await dig(PORT_OFF, 'web.shop.cluster.local', 'A');
    assert.deepEqual(
      aOff.answer.map((x) => x.data),
      ['10.0.70.1', '10.0.70.2', '10.0.70.3'],
      'off: the registry order',
    );
  });

  it('pod records are off by default (NXDOMAIN)', async () => {
    assert.equal((await dig(PORT_OFF, '10-0-70-9.shop.pod.cluster.local', 'A')).status, 'NXDOMAIN');
  });

  it('pods insecure answers any dashed address; verified only addresses of the namespace', async () => {
    const [insecurePort, verifiedPort] = await freePorts(2);
    const extra = (mode: string): string => `same_node only\n    pods ${mode}`;
    const insecure = await startServer({
      files: { 'services.yaml': REGISTRY },
      corefile: corefile(insecurePort, extra('insecure')).replace(/srv \{[^}]*\}/, ''),
      args: ['-node', 'n1'],
    });
    const verified = await startServer({
      files: { 'services.yaml': REGISTRY },
      corefile: corefile(verifiedPort, extra('verified')).replace(/srv \{[^}]*\}/, ''),
      args: ['-node', 'n1'],
    });
    try {
      const any = await dig(insecurePort, '10-0-70-9.other.pod.cluster.local', 'A');
      assert.deepEqual(
        any.answer.map((x) => [x.name, x.type, x.data]),
        [['10-0-70-9.other.pod.cluster.local.', 'A', '10.0.70.9']],
      );
      const v6 = await dig(insecurePort, 'fd00--5.other.pod.cluster.local', 'AAAA');
      assert.deepEqual(
        v6.answer.map((x) => x.data),
        ['fd00::5'],
      );
      assert.equal((await dig(insecurePort, '10-0-70-9.other.pod.cluster.local', 'AAAA')).status, 'NOERROR', 'wrong family: NODATA');
      assert.equal((await dig(insecurePort, 'not-an-ip.other.pod.cluster.local', 'A')).status, 'NXDOMAIN');
      assert.deepEqual(
        (await dig(verifiedPort, '10-0-70-2.shop.pod.cluster.local', 'A')).answer.map((x) => x.data),
        ['10.0.70.2'],
      );
      assert.equal((await dig(verifiedPort, '10-0-70-2.other.pod.cluster.local', 'A')).status, 'NXDOMAIN', 'known address, other namespace');
      assert.equal((await dig(verifiedPort, '10-0-70-9.shop.pod.cluster.local', 'A')).status, 'NXDOMAIN', 'unknown address');
      assert.deepEqual(
        (await dig(verifiedPort, 'web.shop.cluster.local', 'A')).answer.map((x) => x.data),
        ['10.0.70.2'],
        'same_node only',
      );
    } finally {
      await insecure.stop();
      await verified.stop();
    }
  });

  it('an ExternalName registered through the API is a CNAME, survives a restart, and goes with DELETE', async () => {
    const [dns, api] = await freePorts(2);
    const dir = mkdtempSync(join(tmpdir(), 'i18-api-'));
    writeFileSync(join(dir, 'token'), 'sekrit\n');
    const core = `cluster.local:${dns} {
      bind 127.0.0.1
      api {
        listen 127.0.0.1:${api}
        token_file ${dir}/token
        state ${dir}/state
      }
      cluster
      forward . 127.0.0.1:${UPSTREAM}
    }`;
    const url = `http://127.0.0.1:${api}/api/v1/services/shop/billing/external-name`;
    const auth = { authorization: 'Bearer sekrit', 'content-type': 'application/json' };
    let s = await startServer({ corefile: core });
    try {
      const bad = await fetch(url, { method: 'PUT', headers: auth, body: JSON.stringify({ externalName: 'not a name' }) });
      assert.deepEqual([bad.status, await bad.json()], [400, { error: "body.externalName 'not a name' is not a host name" }]);
      const put = await fetch(url, { method: 'PUT', headers: auth, body: JSON.stringify({ externalName: `${OUTSIDE.toUpperCase()}.` }) });
      assert.deepEqual([put.status, await put.json()], [201, { namespace: 'shop', name: 'billing', externalName: OUTSIDE }]);
      const ep = await fetch(`http://127.0.0.1:${api}/api/v1/services/shop/billing/endpoints/x`, {
        method: 'PUT',
        headers: auth,
        body: JSON.stringify({ address: '10.0.70.5' }),
      });
      assert.equal(ep.status, 409, 'no endpoints for an alias');
      const r = await dig(dns, 'billing.shop.svc.cluster.local', 'A');
      assert.deepEqual(
        r.answer.map((x) => [x.type, x.data]),
        [
          ['CNAME', `${OUTSIDE}.`],
          ['A', OUTSIDE_V4],
        ],
      );
      await s.stop();
      s = await startServer({ corefile: core });
      assert.deepEqual(
        (await dig(dns, 'billing.shop.cluster.local', 'CNAME')).answer.map((x) => x.data),
        [`${OUTSIDE}.`],
        'persisted in the state directory',
      );
      const del = await fetch(url, { method: 'DELETE', headers: { authorization: 'Bearer sekrit' } });
      assert.equal(del.status, 204);
      assert.equal((await dig(dns, 'billing.shop.svc.cluster.local', 'A')).status, 'NXDOMAIN');
      const again = await fetch(url, { method: 'DELETE', headers: { authorization: 'Bearer sekrit' } });
      assert.equal(again.status, 404);
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad options and bad ExternalNames are refused with FILE:LINE or the path, and the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'i18-bad-'));
    try {
      const cases: Array<[string, string, RegExp]> = [
        ['cluster {\n  same_node sideways\n}', '', /Corefile:3: cluster: same_node: 'sideways' is not one of off, first, only/],
        ['cluster {\n  pods maybe\n}', '', /Corefile:3: cluster: pods: 'maybe' is not one of disabled, insecure, verified/],
        ['srv {\n  same_node\n}', '', /Corefile:3: same_node: expected exactly 1 argument, got 0/],
        ['cluster {\n  registry r.yaml\n}', 'services:\n  - { name: x, external_name: "not a name" }\n', /services\[0\]\.external_name: not a host name/],
        [
          'cluster {\n  registry r.yaml\n}',
          'services:\n  - { name: x, external_name: a.example, endpoints: [] }\n',
          /services\[0\]\.endpoints: an external_name service has no endpoints/,
        ],
        [
          'cluster {\n  registry r.yaml\n}',
          'services:\n  - { name: x, endpoints: [{ address: 10.0.0.1, weight: 70000 }] }\n',
          /services\[0\]\.endpoints\[0\]\.weight: expected an SRV weight 0-65535/,
        ],
        [
          'kube r.yaml',
          'kind: Service\nmetadata: { name: x }\nspec:\n  ports: [{ name: s, port: 9, protocol: SCTP }]\n',
          /Corefile:2: kube: \S+r\.yaml: document 1 \(Service x\): spec\.ports\[0\]: protocol: "SCTP" is not TCP or UDP/,
        ],
        [
          'kube r.yaml',
          'kind: Service\nmetadata: { name: x }\nspec: { type: ExternalName }\n',
          /Corefile:2: kube: \S+r\.yaml: document 1 \(Service x\): spec\.externalName: required for type ExternalName/,
        ],
        ['kube nowhere', '', /Corefile:2: kube: \S+nowhere: ENOENT/],
      ];
      for (const [core, reg, want] of cases) {
        writeFileSync(join(dir, 'Corefile'), `cluster.local:19785 {\n${core}\n}\n`);
        writeFileSync(join(dir, 'r.yaml'), reg);
        const r = await runCli(['-conf', join(dir, 'Corefile')]);
        assert.notEqual(r.code, 0, core);
        assert.match(r.output, want, core);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
