// Podman labels and inspect output → registry endpoints (no podman needed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLabels } from '../src/sources/podman/labels.js';
import { containerEndpoints } from '../src/sources/podman/endpoints.js';
import type { ContainerInspect } from '../src/sources/podman/libpod.js';

test('labels: service, namespace default, named ports with protocol default tcp', () => {
  assert.equal(parseLabels({ app: 'x' }), undefined);
  assert.equal(parseLabels(null), undefined);
  assert.deepEqual(parseLabels({ 'podswarm.service': 'api', 'podswarm.ports': 'http:8080/tcp, grpc:50051,dns:53/udp' }), {
    service: 'api',
    namespace: 'default',
    ports: [
      { name: 'http', port: 8080, protocol: 'tcp' },
      { name: 'grpc', port: 50051, protocol: 'tcp' },
      { name: 'dns', port: 53, protocol: 'udp' },
    ],
    healthCheck: { port: 8080 },
  });
  assert.deepEqual(parseLabels({ 'podswarm.service': 'db', 'podswarm.namespace': 'prod' }), {
    service: 'db',
    namespace: 'prod',
    ports: [],
    healthCheck: undefined,
  });
});

test('labels: podswarm.health picks the check, by default TCP on the first tcp port', () => {
  const ports = 'dns:53/udp,http:8080,grpc:50051';
  const check = (health?: string) =>
    parseLabels({ 'podswarm.service': 'api', 'podswarm.ports': ports, ...(health !== undefined && { 'podswarm.health': health }) })?.healthCheck;
  assert.deepEqual(check(), { port: 8080 });
  assert.deepEqual(check('tcp:grpc'), { port: 50051 });
  assert.deepEqual(check('http:/healthz'), { port: 8080, httpPath: '/healthz' });
  assert.deepEqual(check('http:/ready@grpc'), { port: 50051, httpPath: '/ready' });
  assert.equal(check('none'), undefined);
  assert.throws(() => check('tcp:dns'), /podswarm.health=tcp:dns: no tcp port named 'dns' in podswarm.ports/);
  assert.throws(() => check('ping'), /podswarm.health=ping: expected tcp\[:PORT-NAME\], http:\/PATH\[@PORT-NAME\] or none/);
  assert.throws(() => parseLabels({ 'podswarm.service': 'api', 'podswarm.health': 'tcp' }), /the container has no tcp port to check/);
});

test('labels: bad values are refused naming the label', () => {
  assert.throws(() => parseLabels({ 'podswarm.service': 'My_Api' }), /podswarm.service=My_Api: not a DNS label/);
  assert.throws(() => parseLabels({ 'podswarm.service': 'api', 'podswarm.namespace': '' }), /podswarm.namespace=: not a DNS label/);
  assert.throws(() => parseLabels({ 'podswarm.service': 'api', 'podswarm.ports': 'http:99999' }), /podswarm.ports: 'http:99999' is not name:port/);
  assert.throws(() => parseLabels({ 'podswarm.service': 'api', 'podswarm.ports': '8080' }), /'8080' is not name:port/);
  assert.throws(() => parseLabels({ 'podswarm.service': 'api', 'podswarm.ports': 'http:80/sctp' }), /'http:80\/sctp'/);
  assert.throws(() => parseLabels({ 'podswarm.service': 'api', 'podswarm.ports': 'a:1,a:2' }), /port name 'a' is used twice/);
});

const inspect = (name: string, networks: Record<string, [string, string?]>): ContainerInspect => ({
  Id: 'id',
  Name: name,
  State: { Running: true },
  Config: { Labels: null },
  NetworkSettings: { Networks: Object.fromEntries(Object.entries(networks).map(([n, [v4, v6]]) => [n, { IPAddress: v4, GlobalIPv6Address: v6 ?? '' }])) },
});

test('endpoints: one per address on the selected networks, named after the container', () => {
  const labels = { service: 'web', namespace: 'shop', ports: [{ name: 'http', port: 80, protocol: 'tcp' as const }], healthCheck: { port: 80 } };
  const one = containerEndpoints(inspect('Web_1', { n1: ['10.89.0.5'] }), labels, [], 'node-a');
  assert.deepEqual(
    one.map((e) => [e.name, e.address, e.nodeName, e.namespace, e.service, e.healthy, e.healthCheck]),
    // Not served until the checker's first pass (readiness).
    [['web-1', '10.89.0.5', 'node-a', 'shop', 'web', false, { port: 80 }]],
  );
  const two = containerEndpoints(inspect('web1', { n2: ['10.89.1.5'], n1: ['10.89.0.5', 'fd00::5'] }), labels, [], 'node-a');
  assert.deepEqual(
    two.map((e) => e.name),
    ['10-89-0-5', 'fd00--5', '10-89-1-5'],
  );
  assert.deepEqual(
    containerEndpoints(inspect('web1', { n2: ['10.89.1.5'], n1: ['10.89.0.5'] }), labels, ['n2'], 'node-a').map((e) => [e.name, e.address]),
    [['web1', '10.89.1.5']],
  );
  assert.deepEqual(containerEndpoints(inspect('web1', { host: [''] }), labels, [], 'node-a'), []);
});

test('health: a Podman HEALTHCHECK replaces the default TCP check, and is served only when healthy', () => {
  const labels = { 'podswarm.service': 'api', 'podswarm.ports': 'http:8080' };
  assert.equal(parseLabels(labels, true)?.healthCheck, undefined);
  assert.deepEqual(parseLabels({ ...labels, 'podswarm.health': 'tcp' }, true)?.healthCheck, { port: 8080 });
  assert.deepEqual(parseLabels({ ...labels, 'podswarm.health.initially': 'healthy' })?.healthCheck, { port: 8080, initially: 'healthy' });
  assert.throws(() => parseLabels({ ...labels, 'podswarm.health.initially': 'yes' }), /podswarm.health.initially=yes: expected healthy or unhealthy/);
  const checked = (status: string): ContainerInspect => ({
    ...inspect('api', { n1: ['10.89.0.6'] }),
    State: { Running: true, Health: { Status: status } },
    Config: { Labels: null, Healthcheck: { Test: ['CMD-SHELL', 'true'] } },
  });
  const plain = { service: 'api', namespace: 'default', ports: [], healthCheck: undefined };
  const of = (status: string) => containerEndpoints(checked(status), plain, [], 'n').map((e) => [e.podmanHealth, e.healthy]);
  assert.deepEqual(
    [of(''), of('starting'), of('healthy'), of('unhealthy')],
    [[['starting', false]], [['starting', false]], [['healthy', true]], [['unhealthy', false]]],
  );
  assert.deepEqual(
    containerEndpoints(inspect('api', { n1: ['10.89.0.6'] }), plain, [], 'n').map((e) => [e.podmanHealth, e.healthy]),
    [[undefined, true]],
  );
});
