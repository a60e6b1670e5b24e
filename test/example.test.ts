// The README's first command: the bundled Corefile.example (DNS on
// 127.0.0.1:1053, API on :8080) serving examples/services.yaml. Its ports are
// the file's own, so it runs in a network namespace of the test's own, where
// they are free whatever else runs on the host. Forwarding goes to a dnsmasq
// this test starts on the namespace's loopback (never /etc/resolv.conf).
// Needs root.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DigResult } from './helpers/dig.js';
import { dnsmasqIn, stopAllDnsmasq } from './helpers/dnsmasq.js';
import { createNetns, type Netns } from './helpers/netns-one.js';
import { startCli, type RunningServer } from './helpers/server.js';

const EXAMPLE = fileURLToPath(new URL('../Corefile.example', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

describe('Corefile.example (npm start)', () => {
  let ns: Netns;
  let srv: RunningServer;
  before(async () => {
    ns = await createNetns(`psw-example-${process.pid}`);
    await dnsmasqIn(ns.name, '127.0.0.1', ['outside.test,10.77.0.1']);
    srv = await startCli(['-conf', EXAMPLE, '--upstream-dns', '127.0.0.1:53'], { prefix: ['ip', 'netns', 'exec', ns.name] });
  });
  after(async () => {
    await srv?.stop();
    stopAllDnsmasq();
    await ns?.destroy();
  });

  const dig = (name: string, type = 'A'): Promise<DigResult> => ns.dig('127.0.0.1', name, type, ['-p', '1053', '+norec']);
  /** GET `url` from inside the namespace: the status and the body. */
  const get = async (url: string): Promise<{ status: number; body: string }> => {
    const out = await ns.exec('curl', ['-s', '-w', '\n%{http_code}', url]);
    const cut = out.lastIndexOf('\n');
    return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
  };

  it('answers the example services, both name forms, with TTL 60', async () => {
    const r = await dig('api.production.cluster.local');
    assert.deepEqual(r.answer.map((a) => a.data).sort(), ['10.0.3.1', '10.0.3.2', '10.0.3.3']);
    assert.ok(r.answer.every((a) => a.ttl === 60));
    const svc = await dig('postgres-service.default.svc.cluster.local');
    assert.equal(svc.answer.length, 3);
    const srvr = await dig('_grpc._tcp.api.production.cluster.local', 'SRV');
    assert.deepEqual(
      srvr.answer.map((a) => a.data.split(' ').slice(0, 3).join(' ')),
      ['0 33 50051', '0 33 50051', '0 33 50051'],
    );
    assert.equal((await dig('api-service.default.cluster.local')).answer.length, 1, 'the unhealthy endpoint is left out');
  });

  it('forwards names outside the zone to the upstream given on the command line', async () => {
    const r = await dig('outside.test');
    assert.deepEqual(
      r.answer.map((a) => a.data),
      ['10.77.0.1'],
    );
  });

  it('serves the discovery API, /health, /ready and /metrics', async () => {
    const addresses = JSON.parse((await get('http://127.0.0.1:8080/api/v1/services/production/api/addresses')).body) as { addresses: string[] };
    assert.deepEqual(addresses.addresses.sort(), ['10.0.3.1:8080', '10.0.3.2:8080', '10.0.3.3:8080']);
    assert.equal((await get('http://127.0.0.1:8081/health')).status, 200);
    assert.equal((await get('http://127.0.0.1:8181/ready')).status, 200);
    assert.match((await get('http://127.0.0.1:9153/metrics')).body, /^coredns_dns_requests_total\{/m);
  });

  it('runs the client examples against it', async () => {
    const inNs = (script: string) => run('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', script], { cwd: ROOT });
    const client = await inNs('examples/service-client.ts');
    assert.match(client.stdout, /addresses: \[\s*'10\.0\.1\.1:5432',\s*'10\.0\.1\.2:5432',\s*'10\.0\.1\.3:5432'\s*\]/);
    const srvExample = await inNs('examples/dns-srv.ts');
    assert.match(srvExample.stdout, /api-0\.api\.production\.svc\.cluster\.local/);
  });
});
