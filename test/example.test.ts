// The README's first command: the bundled Corefile.example (DNS on
// 127.0.0.1:1053, API on :8080) serving examples/services.yaml. Forwarding
// goes to a dnsmasq this test starts on loopback (never /etc/resolv.conf).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dig } from './helpers/dig.js';
import { startCli, type RunningServer } from './helpers/server.js';

const EXAMPLE = fileURLToPath(new URL('../Corefile.example', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const UPSTREAM = 18030;
const run = promisify(execFile);

describe('Corefile.example (npm start)', () => {
  let srv: RunningServer;
  let upstream: ChildProcess;
  before(async () => {
    upstream = spawn('dnsmasq', ['--keep-in-foreground', `--port=${UPSTREAM}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--host-record=outside.test,10.77.0.1'], { stdio: 'ignore' });
    srv = await startCli(['-conf', EXAMPLE, '--upstream-dns', `127.0.0.1:${UPSTREAM}`]);
  });
  after(async () => {
    await srv?.stop();
    upstream?.kill();
  });

  it('answers the example services, both name forms, with TTL 60', async () => {
    const r = await dig(1053, 'api.production.cluster.local');
    assert.deepEqual(r.answer.map((a) => a.data).sort(), ['10.0.3.1', '10.0.3.2', '10.0.3.3']);
    assert.ok(r.answer.every((a) => a.ttl === 60));
    const svc = await dig(1053, 'postgres-service.default.svc.cluster.local');
    assert.equal(svc.answer.length, 3);
    const srvr = await dig(1053, '_grpc._tcp.api.production.cluster.local', 'SRV');
    assert.deepEqual(srvr.answer.map((a) => a.data.split(' ').slice(0, 3).join(' ')), ['0 33 50051', '0 33 50051', '0 33 50051']);
    assert.equal((await dig(1053, 'api-service.default.cluster.local')).answer.length, 1, 'the unhealthy endpoint is left out');
  });

  it('forwards names outside the zone to the upstream given on the command line', async () => {
    const r = await dig(1053, 'outside.test');
    assert.deepEqual(r.answer.map((a) => a.data), ['10.77.0.1']);
  });

  it('serves the discovery API, /health, /ready and /metrics', async () => {
    const addresses = await (await fetch('http://127.0.0.1:8080/api/v1/services/production/api/addresses')).json();
    assert.deepEqual((addresses as { addresses: string[] }).addresses.sort(), ['10.0.3.1:8080', '10.0.3.2:8080', '10.0.3.3:8080']);
    assert.equal((await fetch('http://127.0.0.1:8081/health')).status, 200);
    assert.equal((await fetch('http://127.0.0.1:8181/ready')).status, 200);
    assert.match(await (await fetch('http://127.0.0.1:9153/metrics')).text(), /^coredns_dns_requests_total\{/m);
  });

  it('runs the client examples against it', async () => {
    const client = await run(process.execPath, ['--import', 'tsx', 'examples/service-client.ts'], { cwd: ROOT });
    assert.match(client.stdout, /addresses: \[\s*'10\.0\.1\.1:5432',\s*'10\.0\.1\.2:5432',\s*'10\.0\.1\.3:5432'\s*\]/);
    const srvExample = await run(process.execPath, ['--import', 'tsx', 'examples/dns-srv.ts'], { cwd: ROOT });
    assert.match(srvExample.stdout, /api-0\.api\.production\.svc\.cluster\.local/);
  });
});
