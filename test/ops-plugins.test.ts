// errors, health, ready, prometheus and reload against the real server
// process: HTTP endpoints, signals, Corefile edits and a query loop that
// runs across reloads. Loopback ports from helpers/ports.ts.

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { dig } from './helpers/dig.js';
import { sample } from './helpers/metrics.js';
import { freePort, freePorts } from './helpers/ports.js';
import { runCli, startServer, type RunningServer } from './helpers/server.js';

const REGISTRY = `node: node1
services:
  - name: api
    namespace: production
    ports:
      - { name: http, port: 8080, protocol: tcp }
    endpoints:
      - { name: api-0, address: 10.0.3.1, node: node1 }
      - { name: api-1, address: 10.0.3.2, node: node2 }
      - { name: api-2, address: 10.0.3.3, node: node3, healthy: false }
`;
const API = 'api.production.cluster.local';

const running = new Set<RunningServer>();
after(async () => {
  for (const s of running) await s.stop('SIGKILL');
});

async function start(corefile: string, files: Record<string, string> = {}): Promise<RunningServer> {
  const s = await startServer({ corefile, files: { 'services.yaml': REGISTRY, ...files } });
  running.add(s);
  return s;
}

/**
 * The CLI installs its signal handlers just after printing the banner; one
 * answered query proves it has, so a signal cannot reach Node's defaults
 * (SIGTERM kills at once, SIGUSR1 starts the inspector instead of reloading).
 */
async function signalsReady(port: number): Promise<void> {
  assert.equal((await dig(port, API)).status, 'NOERROR');
}

async function stop(s: RunningServer): Promise<number | null> {
  running.delete(s);
  return s.stop();
}

/** A Corefile for one block on 127.0.0.1:PORT with `extra` directives and the cluster plugin. */
function corefile(port: number, extra: string, ttl = 60): string {
  return `.:${port} {
    bind 127.0.0.1
${extra}
    cluster cluster.local {
        registry {{dir}}/services.yaml
        ttl ${ttl}
    }
}
`;
}

function rewrite(s: RunningServer, text: string): void {
  writeFileSync(s.corefilePath, text.replaceAll('{{dir}}', s.dir));
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** Resolves when `re` has matched `n` times in the output (counting from the start). */
function waitForCount(s: RunningServer, re: RegExp, n: number, timeoutMs?: number): Promise<string> {
  return s.waitFor(new RegExp(`(?:${re.source}[\\s\\S]*?){${n}}`), timeoutMs);
}

describe('health', () => {
  it('GET /health answers 200 OK; unknown paths 404', async () => {
    const [dns, health] = await freePorts(2);
    const s = await start(corefile(dns, `    health 127.0.0.1:${health}`));
    assert.deepEqual(await get(health, '/health'), { status: 200, body: 'OK' });
    assert.equal((await get(health, '/nope')).status, 404);
    assert.equal(await stop(s), 0);
  });

  it('after SIGTERM, keeps answering DNS and /health during lameduck (while /ready says 503), then exits', async () => {
    const [dns, health, ready] = await freePorts(3);
    const s = await start(corefile(dns, `    health 127.0.0.1:${health} {\n        lameduck 3s\n    }\n    ready 127.0.0.1:${ready}`));
    await signalsReady(dns);
    const exited = once(s.proc, 'exit');
    s.proc.kill('SIGTERM');
    await s.waitFor(/going into lameduck mode for 3s/);
    const r = await dig(dns, API);
    assert.equal(r.status, 'NOERROR');
    assert.equal(r.answer.length, 2);
    assert.equal((await get(health, '/health')).status, 200);
    assert.deepEqual(await get(ready, '/ready'), { status: 503, body: 'lameduck' });
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    running.delete(s);
  });

  it('refuses a bad lameduck duration with FILE:LINE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podswarm-test-'));
    const file = join(dir, 'Corefile');
    writeFileSync(file, '.:18504 {\n    health 127.0.0.1:18505 {\n        lameduck soon\n    }\n}\n');
    const { code, output } = await runCli(['-conf', file]);
    assert.equal(code, 1);
    assert.match(output, new RegExp(`${file}:3: health: lameduck: invalid duration 'soon'`));
  });
});

describe('ready', () => {
  it('503 with the plugins not ready, then 200 once they are', async () => {
    const [dns, ready, upstreamPort] = await freePorts(3);
    // forward's only upstream is down (nothing on its port) until the test answers there.
    const s = await start(corefile(dns, `    ready 127.0.0.1:${ready}\n    forward . 127.0.0.1:${upstreamPort}`));
    assert.equal((await dig(dns, 'example.org')).status, 'SERVFAIL');
    await s.waitFor(new RegExp(`upstream 127\\.0\\.0\\.1:${upstreamPort} marked down`));
    assert.deepEqual(await get(ready, '/ready'), { status: 503, body: 'forward' });

    const upstream = createSocket('udp4');
    upstream.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      upstream.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions }), rinfo.port, rinfo.address);
    });
    upstream.bind(upstreamPort, '127.0.0.1');
    await once(upstream, 'listening');
    try {
      await s.waitFor(new RegExp(`upstream 127\\.0\\.0\\.1:${upstreamPort} is healthy again`));
      assert.deepEqual(await get(ready, '/ready'), { status: 200, body: 'OK' });
    } finally {
      upstream.close();
    }
    assert.equal(await stop(s), 0);
  });
});

describe('prometheus', () => {
  it('exports CoreDNS metrics with their labels; counters move by the queries sent', async () => {
    const [dns, metrics] = await freePorts(2);
    const s = await start(corefile(dns, `    prometheus 127.0.0.1:${metrics}\n    errors`));
    const before = (await get(metrics, '/metrics')).body;
    const base = { server: `dns://:${dns}`, zone: '.', view: '' };
    const count = (text: string, name: string, labels: Record<string, string>) => sample(text, name, { ...base, ...labels }) ?? 0;

    for (let i = 0; i < 5; i++) assert.equal((await dig(dns, API)).status, 'NOERROR');
    for (let i = 0; i < 3; i++) assert.equal((await dig(dns, API, 'AAAA')).status, 'NOERROR');
    for (let i = 0; i < 2; i++) assert.equal((await dig(dns, API, 'A', ['+tcp', '+dnssec'])).status, 'NOERROR');
    assert.equal((await dig(dns, 'example.org')).status, 'SERVFAIL');

    const res = await fetch(`http://127.0.0.1:${metrics}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    const delta = (name: string, labels: Record<string, string>) => count(text, name, labels) - count(before, name, labels);
    assert.equal(delta('coredns_dns_requests_total', { proto: 'udp', family: '1', type: 'A' }), 6);
    assert.equal(delta('coredns_dns_requests_total', { proto: 'udp', family: '1', type: 'AAAA' }), 3);
    assert.equal(delta('coredns_dns_requests_total', { proto: 'tcp', family: '1', type: 'A' }), 2);
    assert.equal(delta('coredns_dns_do_requests_total', {}), 2);
    // cluster wrote the answers; nobody wrote the SERVFAIL, so the server did (plugin "").
    assert.equal(delta('coredns_dns_responses_total', { rcode: 'NOERROR', plugin: 'cluster' }), 10);
    assert.equal(delta('coredns_dns_responses_total', { rcode: 'SERVFAIL', plugin: '' }), 1);
    assert.equal(delta('coredns_dns_request_duration_seconds_count', { type: 'A' }), 8);
    assert.equal(delta('coredns_dns_request_duration_seconds_bucket', { type: 'AAAA', le: '+Inf' }), 3);
    assert.equal(delta('coredns_dns_request_size_bytes_count', { proto: 'tcp' }), 2);
    assert.equal(delta('coredns_dns_response_size_bytes_count', { proto: 'udp' }), 9);

    assert.equal(sample(text, 'coredns_build_info', { version: '0.1.0' }), 1);
    for (const name of ['prometheus', 'errors', 'cluster', 'bind']) {
      assert.equal(sample(text, 'coredns_plugin_enabled', { ...base, name }), 1, name);
    }
    assert.equal(sample(text, 'coredns_panics_total'), 0);
    assert.equal(sample(text, 'coredns_reload_failed_total'), 0);
    assert.equal(sample(text, 'podswarm_registry_endpoints', { healthy: 'true' }), 2);
    assert.equal(sample(text, 'podswarm_registry_endpoints', { healthy: 'false' }), 1);
    assert.ok(sample(text, 'process_cpu_user_seconds_total') !== undefined);
    assert.equal(await stop(s), 0);
  });
});

describe('errors', () => {
  it('logs a SERVFAIL nobody answered as "RCODE NAME TYPE: reason"', async () => {
    const dns = await freePort();
    const s = await start(corefile(dns, '    errors'));
    assert.equal((await dig(dns, 'example.org')).status, 'SERVFAIL');
    await s.waitFor(/\[ERROR\] plugin\/errors: 2 example\.org\. A: no plugin wrote a reply/);
    assert.equal(await stop(s), 0);
  });

  it('consolidates errors that match a pattern into one line per period', async () => {
    const dns = await freePort();
    const s = await start(corefile(dns, '    errors {\n        consolidate 2s "^no plugin" warning show_first\n    }'));
    for (let i = 0; i < 3; i++) assert.equal((await dig(dns, `n${i}.example.org`)).status, 'SERVFAIL');
    await s.waitFor(/\[WARNING\] plugin\/errors: 3 errors like '\^no plugin' occurred in last 2s/);
    // show_first: the first one was printed as itself, the other two only counted.
    assert.match(s.output(), /\[WARNING\] plugin\/errors: 2 n0\.example\.org\. A: no plugin wrote a reply/);
    assert.doesNotMatch(s.output(), /n1\.example\.org/);
    assert.equal(await stop(s), 0);
  });
});

describe('reload', () => {
  it('applies an edited Corefile; refuses a bad one with FILE:LINE and keeps serving the old one', async () => {
    const [dns, metrics] = await freePorts(2);
    const s = await start(corefile(dns, `    reload 2s 1s\n    prometheus 127.0.0.1:${metrics}`, 60));
    assert.equal((await dig(dns, API)).answer[0]?.ttl, 60);

    rewrite(s, corefile(dns, `    reload 2s 1s\n    prometheus 127.0.0.1:${metrics}`, 7));
    await s.waitFor(/reloaded configuration/);
    assert.equal((await dig(dns, API)).answer[0]?.ttl, 7);

    rewrite(s, `.:${dns} {\n    bind 127.0.0.1\n    reload 2s 1s\n    no_such_plugin\n}\n`);
    await s.waitFor(new RegExp(`reload refused, previous configuration still serving: ${s.corefilePath}:4: unknown directive 'no_such_plugin'`));
    const r = await dig(dns, API);
    assert.equal(r.status, 'NOERROR');
    assert.equal(r.answer[0]?.ttl, 7);
    assert.equal(sample((await get(metrics, '/metrics')).body, 'coredns_reload_failed_total'), 1);

    // Fixed again: the refused reload does not block the next one.
    rewrite(s, corefile(dns, `    reload 2s 1s\n    prometheus 127.0.0.1:${metrics}`, 9));
    await waitForCount(s, /reloaded configuration/, 2);
    assert.equal((await dig(dns, API)).answer[0]?.ttl, 9);
    assert.equal(await stop(s), 0);
  });

  it('SIGUSR1 reloads without the reload plugin', async () => {
    const dns = await freePort();
    const s = await start(corefile(dns, '', 60));
    await signalsReady(dns);
    rewrite(s, corefile(dns, '', 11));
    s.proc.kill('SIGUSR1');
    await s.waitFor(/reloaded configuration/);
    assert.equal((await dig(dns, API)).answer[0]?.ttl, 11);
    assert.equal(await stop(s), 0);
  });

  it('keeps health, ready and metrics ports across reloads; moves them when the address changes', async () => {
    const [dns, http, metrics, movedMetrics, squatted] = await freePorts(5);
    const shared = `    health 127.0.0.1:${http}\n    ready 127.0.0.1:${http}\n    prometheus 127.0.0.1:${metrics}`;
    const s = await start(corefile(dns, shared));
    await signalsReady(dns);
    for (let i = 1; i <= 5; i++) {
      rewrite(s, corefile(dns, shared, 60 + i));
      s.proc.kill('SIGUSR1');
      await waitForCount(s, /reloaded configuration/, i);
      assert.deepEqual(await get(http, '/health'), { status: 200, body: 'OK' });
      assert.deepEqual(await get(http, '/ready'), { status: 200, body: 'OK' });
      assert.equal((await get(metrics, '/metrics')).status, 200);
    }
    assert.doesNotMatch(s.output(), /EADDRINUSE|address already in use/);

    // prometheus moves to another port: the old port closes, the new one serves.
    rewrite(s, corefile(dns, `    health 127.0.0.1:${http}\n    ready 127.0.0.1:${http}\n    prometheus 127.0.0.1:${movedMetrics}`));
    s.proc.kill('SIGUSR1');
    await waitForCount(s, /reloaded configuration/, 6);
    assert.equal((await get(movedMetrics, '/metrics')).status, 200);
    await assert.rejects(get(metrics, '/metrics'));

    // health asked to move onto a port another process holds: refused, and the old one keeps serving.
    const squatter = createServer();
    squatter.listen(squatted, '127.0.0.1');
    await once(squatter, 'listening');
    try {
      rewrite(s, corefile(dns, `    health 127.0.0.1:${squatted}\n    prometheus 127.0.0.1:${movedMetrics}`));
      s.proc.kill('SIGUSR1');
      await s.waitFor(new RegExp(`reload refused, previous configuration still serving: .*${squatted}.*(EADDRINUSE|address already in use)`));
      assert.deepEqual(await get(http, '/health'), { status: 200, body: 'OK' });
      assert.deepEqual(await get(http, '/ready'), { status: 200, body: 'OK' });
      assert.equal((await get(movedMetrics, '/metrics')).status, 200);
    } finally {
      squatter.close();
    }
    assert.equal(await stop(s), 0);
  });

  it('loses no query and returns no SERVFAIL while reloading 5 times under load', async () => {
    const dns = await freePort();
    const s = await start(corefile(dns, ''));
    await signalsReady(dns);
    const RELOADS = 5;
    let reloadsDone = false;
    const load = queryLoop(dns, API, { min: 2000, max: 50_000, concurrency: 32, until: () => reloadsDone });
    for (let i = 1; i <= RELOADS; i++) {
      rewrite(s, corefile(dns, '', 30 + i));
      s.proc.kill('SIGUSR1');
      await waitForCount(s, /reloaded configuration/, i);
    }
    reloadsDone = true;
    const result = await load;
    assert.ok(result.sent >= 2000);
    assert.equal(result.lost, 0);
    assert.deepEqual(result.rcodes, { NOERROR: result.sent });
    assert.equal(await stop(s), 0);
  });
});

interface LoopResult {
  sent: number;
  lost: number;
  rcodes: Record<string, number>;
}

/**
 * Sends A queries for `name` over UDP, `concurrency` at a time, at least
 * `min` and until `until()` holds (never more than `max`). A query without
 * a reply within 3s is lost.
 */
async function queryLoop(port: number, name: string, o: { min: number; max: number; concurrency: number; until: () => boolean }): Promise<LoopResult> {
  const sock = createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  const pending = new Map<number, (rcode: string | null) => void>();
  sock.on('message', (msg) => {
    const r = dnsPacket.decode(msg);
    pending.get(r.id!)?.((r as { rcode?: string }).rcode ?? 'NOERROR');
  });
  const result: LoopResult = { sent: 0, lost: 0, rcodes: {} };
  let nextId = 1;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const id = nextId++ & 0xffff;
      const timer = setTimeout(() => settle(null), 3000);
      const settle = (rcode: string | null): void => {
        clearTimeout(timer);
        pending.delete(id);
        if (rcode === null) result.lost++;
        else result.rcodes[rcode] = (result.rcodes[rcode] ?? 0) + 1;
        resolve();
      };
      pending.set(id, settle);
      result.sent++;
      sock.send(dnsPacket.encode({ type: 'query', id, questions: [{ type: 'A', name }] }), port, '127.0.0.1');
    });
  const worker = async (): Promise<void> => {
    while (result.sent < o.max && (result.sent < o.min || !o.until())) await one();
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  sock.close();
  return result;
}
