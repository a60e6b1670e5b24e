// The discovery HTTP API against the real server process: every route, the
// 4xx cases by message, auth, blocking queries, OpenAPI, reload hand-over.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from './helpers/ports.js';
import { schemaProblems } from './helpers/schema.js';
import { startServer, type RunningServer } from './helpers/server.js';

const [DNS_PORT, API_PORT] = await freePorts(2);
const BASE = `http://127.0.0.1:${API_PORT}/api/v1`;
const TOKEN = 'test-token-1';

const REGISTRY = `node: node1
services:
  - name: web
    namespace: shop
    ports:
      - { name: http, port: 8080 }
      - { name: grpc, port: 50051 }
    endpoints:
      - { name: web-0, address: 10.0.9.1 }
      - { name: web-1, address: 10.0.9.2, node: node2 }
      - { name: web-2, address: 10.0.9.3, healthy: false }
  - name: db
    namespace: shop
    ports:
      - { name: pg, port: 5432 }
    endpoints:
      - { name: db-0, address: fd00:9::1 }
`;

const corefile = (token: string) => `.:${DNS_PORT} {
  bind 127.0.0.1
  api {
    listen 127.0.0.1:${API_PORT}
    ${token}
  }
  cluster cluster.local {
    registry {{dir}}/services.yaml
  }
}
`;

interface Res {
  status: number;
  headers: Headers;
  body: any;
}

async function call(method: string, path: string, init: { body?: string; token?: string; type?: string } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/json';
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(BASE + path, { method, headers, body: init.body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

const get = (path: string) => call('GET', path);

describe('api', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer({
      corefile: corefile('token_file {{dir}}/token'),
      files: { 'services.yaml': REGISTRY, token: `${TOKEN}\n` },
    });
  });
  after(async () => {
    await server.stop();
  });

  test('lists all services and one namespace', async () => {
    const all = await get('/services');
    assert.equal(all.status, 200);
    assert.deepEqual(
      all.body.map((s: any) => `${s.namespace}/${s.name}`),
      ['shop/db', 'shop/web'],
    );
    const web = all.body.find((s: any) => s.name === 'web');
    assert.equal(web.endpoints, 3);
    assert.equal(web.healthyEndpoints, 2);
    assert.ok(Number(all.headers.get('x-podswarm-index')) > 0);
    const shop = await get('/services/shop');
    assert.equal(shop.status, 200);
    assert.equal(shop.body.length, 2);
  });

  test('endpoints: all, and healthy only', async () => {
    const all = await get('/services/shop/web/endpoints');
    assert.equal(all.status, 200);
    assert.deepEqual(all.body[0], {
      name: 'web-0',
      nodeName: 'node1',
      address: '10.0.9.1',
      port: 8080,
      ports: [
        { name: 'http', port: 8080, protocol: 'tcp' },
        { name: 'grpc', port: 50051, protocol: 'tcp' },
      ],
      healthy: true,
      health: { source: 'none' },
      source: `file:${join(server.dir, 'services.yaml')}`,
    });
    assert.deepEqual(
      all.body.map((e: any) => [e.name, e.nodeName, e.healthy]),
      [
        ['web-0', 'node1', true],
        ['web-1', 'node2', true],
        ['web-2', 'node1', false],
      ],
    );
    const healthy = await get('/services/shop/web/endpoints?healthy=true');
    assert.deepEqual(
      healthy.body.map((e: any) => e.name),
      ['web-0', 'web-1'],
    );
    assert.equal(all.headers.get('x-podswarm-index'), healthy.headers.get('x-podswarm-index'));
  });

  test('addresses: healthy only, first port by default, named port, IPv6 in brackets', async () => {
    assert.deepEqual((await get('/services/shop/web/addresses')).body, { addresses: ['10.0.9.1:8080', '10.0.9.2:8080'] });
    assert.deepEqual((await get('/services/shop/web/addresses?port=grpc')).body, { addresses: ['10.0.9.1:50051', '10.0.9.2:50051'] });
    assert.deepEqual((await get('/services/shop/db/addresses')).body, { addresses: ['[fd00:9::1]:5432'] });
  });

  test('unknown things are 404 with a message', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/services/shop/nope/endpoints', /service 'nope' not found in namespace 'shop'/],
      ['/services/shop/nope/addresses', /service 'nope' not found/],
      ['/services/nowhere', /namespace 'nowhere' not found/],
      ['/services/shop/web/addresses?port=smtp', /no port named 'smtp'/],
      ['/nothing/here', /no such route: GET \/api\/v1\/nothing\/here/],
    ];
    for (const [path, message] of cases) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      assert.match(r.body.error, message, path);
    }
  });

  test('malformed names and parameters are 400 with a message', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/services/Shop_1/web/endpoints', /malformed namespace "Shop_1": expected a DNS label/],
      ['/services/shop/-web/endpoints', /malformed service name "-web"/],
      ['/services/shop/web/addresses?port=HTTP', /malformed query parameter 'port' "HTTP"/],
      ['/services/shop/web/endpoints?healthy=maybe', /query parameter 'healthy' must be boolean/],
      ['/services/shop/web/endpoints?index=-1', /query parameter 'index' must be >= 0/],
      ['/services/shop/web/endpoints?index=1&wait=soon', /wait: invalid duration 'soon'/],
      [`/services/${'a'.repeat(64)}`, /^namespace must NOT have more than 63 characters/],
    ];
    for (const [path, message] of cases) {
      const r = await get(path);
      assert.equal(r.status, 400, path);
      assert.match(r.body.error, message, path);
    }
  });

  test('a wrong method is 405 with Allow', async () => {
    const r = await call('POST', '/services/shop/web/endpoints');
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
    assert.match(r.body.error, /method POST not allowed on \/api\/v1\/services\/\{ns\}\/\{svc\}\/endpoints/);
    const g = await get('/services/shop/web/endpoints/web-0');
    assert.equal(g.status, 405);
    assert.equal(g.headers.get('allow'), 'PUT, DELETE');
  });

  test('registration needs the bearer token', async () => {
    const path = '/services/shop/web/endpoints/ext-0';
    const body = JSON.stringify({ address: '10.0.9.50' });
    const none = await call('PUT', path, { body });
    assert.equal(none.status, 401);
    assert.match(none.body.error, /missing bearer token/);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await call('PUT', path, { body, token: 'nope' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.body.error, /invalid bearer token/);
    const del = await call('DELETE', path);
    assert.equal(del.status, 401);
  });

  test('bad registration bodies are 4xx with a message', async () => {
    const path = '/services/shop/web/endpoints/ext-0';
    const cases: Array<[{ body: string; type?: string }, number, RegExp]> = [
      [{ body: '{"address": "10.0' }, 400, /malformed JSON body/],
      [{ body: '' }, 400, /malformed JSON body/],
      [{ body: '{}' }, 400, /body must have required property 'address'/],
      [{ body: '{"address": "10.0.9.50", "colour": "red"}' }, 400, /unknown property 'colour'/],
      [{ body: '{"address": "not-an-ip"}' }, 400, /body.address 'not-an-ip' is not an IP address/],
      [{ body: '{"address": "10.0.9.50", "ports": [{"name": "http", "port": 0}]}' }, 400, /body.ports.0.port must be >= 1/],
      [{ body: '{"address": "10.0.9.50", "ports": [{"name": "a", "port": 1}, {"name": "a", "port": 2}]}' }, 400, /port name 'a' is used twice/],
      [{ body: JSON.stringify({ address: '10.0.9.50', nodeName: 'x'.repeat(20_000) }) }, 413, /request body too large/],
      [{ body: 'address=10.0.9.50', type: 'text/plain' }, 415, /unsupported content type/],
    ];
    for (const [init, status, message] of cases) {
      const r = await call('PUT', path, { ...init, token: TOKEN });
      assert.equal(r.status, status, init.body.slice(0, 60));
      assert.match(r.body.error, message, init.body.slice(0, 60));
    }
    const badName = await call('PUT', '/services/shop/web/endpoints/Ext_0', { body: '{"address":"10.0.9.50"}', token: TOKEN });
    assert.equal(badName.status, 400);
    assert.match(badName.body.error, /malformed endpoint name "Ext_0"/);
  });

  test('PUT registers, replaces; DELETE removes; file endpoints are not ours to delete', async () => {
    const path = '/services/shop/web/endpoints/ext-0';
    const created = await call('PUT', path, { body: JSON.stringify({ address: '10.0.9.50' }), token: TOKEN });
    assert.equal(created.status, 201);
    // Without ports of its own the endpoint takes the service's, and this node's name.
    assert.deepEqual(created.body, {
      name: 'ext-0',
      nodeName: (await get('/services/shop/web/endpoints')).body.find((e: any) => e.name === 'ext-0').nodeName,
      address: '10.0.9.50',
      port: 8080,
      ports: [
        { name: 'http', port: 8080, protocol: 'tcp' },
        { name: 'grpc', port: 50051, protocol: 'tcp' },
      ],
      healthy: true,
      health: { source: 'none' },
      source: 'api',
    });
    const replaced = await call('PUT', path, {
      body: JSON.stringify({ address: '10.0.9.51', nodeName: 'edge-1', ports: [{ name: 'http', port: 9090 }] }),
      token: TOKEN,
    });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.nodeName, 'edge-1');
    assert.ok((await get('/services/shop/web/addresses')).body.addresses.includes('10.0.9.51:9090'));

    const fresh = await call('PUT', '/services/newns/newsvc/endpoints/one', { body: '{"address":"10.0.9.60"}', token: TOKEN });
    assert.equal(fresh.status, 201);
    assert.equal(fresh.body.port, null);
    assert.equal((await get('/services/newns')).body[0].name, 'newsvc');

    const taken = await call('PUT', '/services/shop/web/endpoints/web-0', { body: '{"address":"10.0.9.70"}', token: TOKEN });
    assert.equal(taken.status, 409);
    assert.match(taken.body.error, /was not registered through the API/);

    assert.equal((await call('DELETE', path, { token: TOKEN })).status, 204);
    assert.equal((await call('DELETE', '/services/newns/newsvc/endpoints/one', { token: TOKEN })).status, 204);
    const again = await call('DELETE', path, { token: TOKEN });
    assert.equal(again.status, 404);
    assert.match(again.body.error, /endpoint 'ext-0' of service 'web' in namespace 'shop' not found/);
    const fileOwned = await call('DELETE', '/services/shop/web/endpoints/web-0', { token: TOKEN });
    assert.equal(fileOwned.status, 409);
    assert.equal((await get('/services/newns')).status, 404);
  });

  test('a blocking query returns when the service changes', async () => {
    const first = await get('/services/shop/web/endpoints');
    const index = Number(first.headers.get('x-podswarm-index'));
    const pending = get(`/services/shop/web/endpoints?index=${index}&wait=60s`);
    // Park the query first: an unrelated change must not answer it.
    const other = await call('PUT', '/services/elsewhere/x/endpoints/e', { body: '{"address":"10.0.9.80"}', token: TOKEN });
    assert.equal(other.status, 201);
    const file = join(server.dir, 'services.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('{ name: web-2, address: 10.0.9.3, healthy: false }', '{ name: web-2, address: 10.0.9.3 }'));
    const changed = await pending;
    assert.equal(changed.status, 200);
    assert.ok(Number(changed.headers.get('x-podswarm-index')) > index);
    assert.deepEqual(
      changed.body.map((e: any) => e.healthy),
      [true, true, true],
    );
    await call('DELETE', '/services/elsewhere/x/endpoints/e', { token: TOKEN });
  });

  test('a blocking query returns on timeout with the same index', async () => {
    const first = await get('/services/shop/db/addresses');
    const index = first.headers.get('x-podswarm-index');
    const r = await get(`/services/shop/db/addresses?index=${index}&wait=200ms`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-podswarm-index'), index);
    assert.deepEqual(r.body, first.body);
  });

  test('a blocking query on a missing service returns when it appears', async () => {
    const missing = await get('/services/later/svc/endpoints');
    assert.equal(missing.status, 404);
    const pending = get(`/services/later/svc/endpoints?index=${missing.headers.get('x-podswarm-index')}&wait=60s`);
    await call('PUT', '/services/later/svc/endpoints/e1', { body: '{"address":"10.0.9.90"}', token: TOKEN });
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.body[0].address, '10.0.9.90');
    await call('DELETE', '/services/later/svc/endpoints/e1', { token: TOKEN });
  });

  test('the OpenAPI document parses and lists every route', async () => {
    const r = await get('/openapi.json');
    assert.equal(r.status, 200);
    assert.equal(r.body.openapi, '3.1.0');
    const routes = Object.entries(r.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    assert.deepEqual(routes.sort(), [
      'DELETE /api/v1/services/{ns}/{svc}/endpoints/{name}',
      'DELETE /api/v1/services/{ns}/{svc}/external-name',
      'GET /api/v1/members',
      'GET /api/v1/services',
      'GET /api/v1/services/{ns}',
      'GET /api/v1/services/{ns}/{svc}/addresses',
      'GET /api/v1/services/{ns}/{svc}/endpoints',
      'PUT /api/v1/services/{ns}/{svc}/endpoints/{name}',
      'PUT /api/v1/services/{ns}/{svc}/external-name',
    ]);
    const put = r.body.paths['/api/v1/services/{ns}/{svc}/endpoints/{name}'].put;
    assert.deepEqual(put.security, [{ bearer: [] }]);
    assert.deepEqual(put.requestBody.content['application/json'].schema.required, ['address']);
  });

  test('members without gossip: the node alone, as the OpenAPI schema says', async () => {
    const r = await get('/members');
    assert.equal(r.status, 200);
    assert.equal(r.body.gossip, false);
    assert.equal(r.body.members.length, 1);
    const [me] = r.body.members;
    assert.equal(me.self, true);
    assert.equal(me.state, 'alive');
    // No gossip: no gossip address, versions or incarnation to report.
    assert.deepEqual([me.address, me.port, me.protocol, me.delegate, me.incarnation], [null, null, null, null, null]);
    assert.ok(Date.parse(me.stateChangedAt) <= Date.now());
    const doc = (await get('/openapi.json')).body;
    const schema = doc.paths['/api/v1/members'].get.responses['200'].content['application/json'].schema;
    assert.deepEqual(schemaProblems(schema, r.body), []);
    assert.deepEqual(schemaProblems(schema, { gossip: false, members: [{ ...me, state: 'gone' }] }), [
      '$.members[0].state: "gone" is not one of ["alive","suspect","dead","left"]',
    ]);
  });

  test('endpoint responses match their OpenAPI schema, source included', async () => {
    const doc = (await get('/openapi.json')).body;
    const schema = doc.paths['/api/v1/services/{ns}/{svc}/endpoints'].get.responses['200'].content['application/json'].schema;
    assert.ok(schema.items.required.includes('source'));
    assert.deepEqual(schemaProblems(schema, (await get('/services/shop/web/endpoints')).body), []);
  });

  test('DELETE with Content-Type: application/json and no body works as without the header', async () => {
    const path = '/services/shop/web/endpoints/ext-empty';
    const json = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    assert.equal((await call('PUT', path, { body: '{"address":"10.0.9.77"}', token: TOKEN })).status, 201);
    const del = await fetch(BASE + path, { method: 'DELETE', headers: json, body: '' });
    assert.equal(del.status, 204, await del.clone().text());
    const again = await fetch(BASE + path, { method: 'DELETE', headers: json, body: '' });
    assert.equal(again.status, 404);
    assert.match(((await again.json()) as { error: string }).error, /endpoint 'ext-empty' .* not found/);
    // Without a body a GET with the header is fine too; a PUT still needs one.
    assert.equal((await fetch(`${BASE}/services/shop/web/endpoints`, { headers: json })).status, 200);
    const put = await call('PUT', path, { body: '', token: TOKEN });
    assert.equal(put.status, 400);
    assert.match(put.body.error, /malformed JSON body/);
  });

  test('a reload hands the running API over (no address in use) and applies the new settings', async () => {
    // Registered endpoints outlive the reload too: the registry belongs to the process.
    await call('PUT', '/services/shop/web/endpoints/kept', { body: '{"address":"10.0.9.99"}', token: TOKEN });
    writeFileSync(server.corefilePath, corefile('').replaceAll('{{dir}}', server.dir));
    server.proc.kill('SIGUSR1');
    await server.waitFor(/reloaded configuration/);
    assert.doesNotMatch(server.output(), /address already in use|reload refused/i);
    const r = await call('DELETE', '/services/shop/web/endpoints/kept', { token: TOKEN });
    assert.equal(r.status, 403);
    assert.match(r.body.error, /registration is disabled: configure a token with `token_file FILE`/);
    assert.ok((await get('/services/shop/web/endpoints')).body.some((e: any) => e.name === 'kept'));
  });
});
