// The client library against the real server: HTTP calls, selection
// strategies, connect with retry (loopback only), watch, and the DNS path.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { freePorts } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';
import {
  DiscoveryClient,
  DiscoveryError,
  attemptOrder,
  connect,
  getServiceAddresses,
  getServiceEndpoints,
  healthyOnly,
  pickEndpoint,
  preferLocal,
  sameNodeOrder,
  random,
  resolveServiceAddresses,
  resolveServiceSrv,
  roundRobin,
  watch,
  type ServiceEndpoint,
} from '../src/index.js';

/** DOWN_PORT: nothing listens there. */
const [DNS_PORT, API_PORT, ECHO_PORT, DOWN_PORT] = await freePorts(4);
const URL = `http://127.0.0.1:${API_PORT}`;

// 127.0.0.2 has nothing listening on ECHO_PORT: the echo server binds 127.0.0.1 only.
const REGISTRY = `node: node2
services:
  - name: echo
    namespace: default
    ports:
      - { name: echo, port: ${ECHO_PORT} }
    endpoints:
      - { name: dead, address: 127.0.0.2, node: node1 }
      - { name: live, address: 127.0.0.1 }
      - { name: sick, address: 127.0.0.3, healthy: false }
  - name: gone
    namespace: default
    ports:
      - { name: echo, port: ${ECHO_PORT} }
    endpoints:
      - { name: dead, address: 127.0.0.2 }
`;

const ep = (name: string, nodeName: string, healthy = true): ServiceEndpoint => ({ name, nodeName, healthy, address: '127.0.0.1', port: 1, ports: [] });

describe('client library', () => {
  let server: RunningServer;
  let echo: Server;
  let client: DiscoveryClient;

  before(async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((resolve) => echo.listen(ECHO_PORT, '127.0.0.1', resolve));
    server = await startServer({
      corefile: `.:${DNS_PORT} {
        bind 127.0.0.1
        api { listen 127.0.0.1:${API_PORT} }
        cluster cluster.local { registry {{dir}}/services.yaml }
        srv cluster.local
      }`,
      files: { 'services.yaml': REGISTRY },
    });
    client = new DiscoveryClient({ url: URL });
    process.env.PODSWARM_API_URL = URL;
  });
  after(async () => {
    await client.close();
    await server.stop();
    await new Promise((resolve) => echo.close(resolve));
  });

  test('getServiceAddresses / getServiceEndpoints (class and default client)', async () => {
    assert.deepEqual(await client.getServiceAddresses('echo', 'default'), [`127.0.0.1:${ECHO_PORT}`, `127.0.0.2:${ECHO_PORT}`]);
    assert.deepEqual(await getServiceAddresses('echo', 'default', 'echo'), [`127.0.0.1:${ECHO_PORT}`, `127.0.0.2:${ECHO_PORT}`]);
    const eps = await getServiceEndpoints('echo');
    assert.deepEqual(
      eps.map((e) => [e.name, e.nodeName, e.port, e.healthy]),
      [
        ['live', 'node2', ECHO_PORT, true],
        ['dead', 'node1', ECHO_PORT, true],
        ['sick', 'node2', ECHO_PORT, false],
      ],
    );
    assert.deepEqual(
      (await client.getServiceEndpoints('echo', 'default', true)).map((e) => e.name),
      ['live', 'dead'],
    );
    assert.deepEqual(
      (await client.listServices('default')).map((s) => s.name),
      ['echo', 'gone'],
    );
  });

  test('API errors surface as DiscoveryError with the server message', async () => {
    await assert.rejects(
      client.getServiceAddresses('nope', 'default'),
      (e: unknown) => e instanceof DiscoveryError && e.status === 404 && /service 'nope' not found/.test(e.message),
    );
    // This server has no token_file: registration is refused with the server's explanation.
    await assert.rejects(
      client.register('echo', 'default', 'x', { address: '127.0.0.9' }),
      (e: unknown) => e instanceof DiscoveryError && e.status === 403 && /token_file/.test(e.message),
    );
    const withToken = new DiscoveryClient({ url: URL, token: 't' });
    await assert.rejects(withToken.deregister('echo', 'default', 'x'), (e: unknown) => e instanceof DiscoveryError && e.status === 403);
    await withToken.close();
    const down = new DiscoveryClient({ url: `http://127.0.0.1:${DOWN_PORT}` });
    await assert.rejects(down.getServiceEndpoints('echo'), (e: unknown) => e instanceof DiscoveryError && e.status === 0 && /ECONNREFUSED/.test(e.message));
    await down.close();
  });

  test('selection strategies', () => {
    const eps = [ep('a', 'n1'), ep('b', 'n2'), ep('c', 'n2', false)];
    const rr = roundRobin();
    assert.deepEqual(
      [rr(eps), rr(eps), rr(eps), rr(eps)].map((e) => e?.name),
      ['a', 'b', 'c', 'a'],
    );
    assert.equal(random(() => 0.99)(eps)?.name, 'c');
    const healthy = healthyOnly(roundRobin());
    assert.deepEqual(
      [healthy(eps), healthy(eps), healthy(eps)].map((e) => e?.name),
      ['a', 'b', 'a'],
    );
    assert.equal(pickEndpoint(eps, preferLocal('n2', healthyOnly())), eps[1]);
    // No local endpoint: any node will do.
    assert.equal(pickEndpoint(eps, preferLocal('n9', healthyOnly()))?.name, 'a');
    assert.equal(pickEndpoint([ep('x', 'n1', false)]), undefined);
    assert.notEqual(pickEndpoint(eps), eps[2]);
    assert.deepEqual(
      attemptOrder(eps, preferLocal('n2', healthyOnly())).map((e) => e.name),
      ['b', 'a'],
    );
    // same_node only: the local endpoints alone while one is usable, else the others.
    const two = [ep('a', 'n1'), ep('b', 'n2'), ep('d', 'n2')];
    assert.deepEqual(
      attemptOrder(two, preferLocal('n2', healthyOnly(roundRobin()), { only: true })).map((e) => e.name),
      ['b', 'd'],
    );
    assert.deepEqual(
      attemptOrder(eps, preferLocal('n2', healthyOnly(), { only: true })).map((e) => e.name),
      ['b'],
    );
    assert.deepEqual(
      attemptOrder([ep('a', 'n1'), ep('c', 'n2', false)], preferLocal('n2', healthyOnly(), { only: true })).map((e) => e.name),
      ['a'],
    );
    // The order the DNS answers use (cluster/srv `same_node`), exported for clients.
    assert.deepEqual(
      sameNodeOrder(two, 'n2', 'first').map((e) => e.name),
      ['b', 'd', 'a'],
    );
    assert.deepEqual(
      sameNodeOrder(two, 'n2', 'only').map((e) => e.name),
      ['b', 'd'],
    );
    assert.deepEqual(
      sameNodeOrder(two, 'n9', 'only').map((e) => e.name),
      ['a', 'b', 'd'],
    );
  });

  test('connect retries across endpoints until one accepts', async () => {
    // node1's endpoint (dead) is tried first, then the live one.
    const socket = await connect('echo', 'default', 'echo', { client, strategy: preferLocal('node1', healthyOnly()) });
    assert.equal(socket.remoteAddress, '127.0.0.1');
    socket.write('ping');
    const [reply] = await new Promise<string[]>((resolve) => socket.once('data', (d) => resolve([d.toString()])));
    assert.equal(reply, 'ping');
    socket.destroy();
    const byNumber = await connect('echo', 'default', ECHO_PORT, { client });
    byNumber.destroy();
  });

  test('connect fails with every attempt listed when nothing accepts', async () => {
    await assert.rejects(
      connect('gone', 'default', 'echo', { client }),
      (e: unknown) => e instanceof AggregateError && new RegExp(`dead \\(127\\.0\\.0\\.2:${ECHO_PORT}\\): .*ECONNREFUSED`).test(e.message),
    );
    await assert.rejects(connect('echo', 'default', 'smtp', { client, strategy: healthyOnly() }), /no port named 'smtp'/);
  });

  test('watch reports the current endpoints, then each change', async () => {
    const seen: string[][] = [];
    let wake: () => void = () => {};
    const w = watch(
      'echo',
      'default',
      (eps) => {
        seen.push(eps.filter((e) => e.healthy).map((e) => e.name));
        wake();
      },
      { client },
    );
    const next = (): Promise<void> => new Promise((resolve) => (wake = resolve));
    try {
      await next();
      assert.deepEqual(seen, [['live', 'dead']]);
      const file = join(server.dir, 'services.yaml');
      const changed = next();
      writeFileSync(file, readFileSync(file, 'utf8').replace('{ name: sick, address: 127.0.0.3, healthy: false }', '{ name: sick, address: 127.0.0.3 }'));
      await changed;
      assert.deepEqual(seen[1], ['live', 'dead', 'sick']);
    } finally {
      await w.stop();
    }
  });

  test('DNS-only path: SRV through node:dns against the node', async () => {
    const dns = { server: `127.0.0.1:${DNS_PORT}` };
    const srv = await resolveServiceSrv('echo', 'default', 'echo', dns);
    assert.ok(srv.every((s) => s.port === ECHO_PORT));
    assert.ok(srv.some((s) => s.addresses.includes('127.0.0.1')));
    const addrs = await resolveServiceAddresses('echo', 'default', 'echo', dns);
    assert.ok(addrs.includes(`127.0.0.1:${ECHO_PORT}`) && addrs.includes(`127.0.0.2:${ECHO_PORT}`));
  });
});
