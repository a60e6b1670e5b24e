// Health checks end to end: the owning node (n1) checks endpoints that
// declare a check on loopback ports this test opens and closes; DNS on n1
// and on a gossip peer (n2) follows. Shortened interval/threshold. Ports
// from helpers/ports.ts.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dig } from './helpers/dig.js';
import { eventuallyAnswers } from './helpers/eventually.js';
import { freePorts } from './helpers/ports.js';
import { runCli, startServer, type RunningServer } from './helpers/server.js';

const [TCP_PORT, HTTP_PORT, METRICS] = await freePorts(3);
const [N1_GOSSIP, N1_DNS, N2_GOSSIP, N2_DNS] = await freePorts(4);

const REGISTRY = `services:
  - name: web
    ports:
      - { name: http, port: ${TCP_PORT} }
    health_check: { tcp: http }
    endpoints:
      - { name: web-0, address: 127.0.0.1 }
  - name: api
    ports:
      - { name: http, port: ${HTTP_PORT} }
    health_check: { http: /healthz, port: http }
    endpoints:
      - { name: api-0, address: 127.0.0.1 }
  # no health_check: never contacted, stays healthy
  - name: plain
    endpoints:
      - { address: 203.0.113.10 }
`;

function corefile(dnsPort: number, gossipPort: number, extra: string): string {
  return `cluster.local:${dnsPort} {
    bind 127.0.0.1
    gossip {
        bind 127.0.0.1:${gossipPort}
        join 127.0.0.1:${N1_GOSSIP} 127.0.0.1:${N2_GOSSIP}
        profile local
        probe_interval 200ms
        gossip_interval 50ms
    }
    ${extra}
    cluster cluster.local {
        registry {{dir}}/services.yaml
    }
}
`;
}

const servers: RunningServer[] = [];
let n1: RunningServer;
let n2: RunningServer;
let tcp: Server | undefined;
let http: HttpServer | undefined;
let httpStatus = 200;

function listenTcp(): Promise<void> {
  tcp = createServer((s) => s.destroy());
  return new Promise((resolve) => tcp!.listen(TCP_PORT, '127.0.0.1', resolve));
}

function close(s: Server | HttpServer | undefined): Promise<void> {
  return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
}

async function addresses(port: number, name: string): Promise<string[]> {
  return (await dig(port, name)).answer.filter((r) => r.type === 'A').map((r) => r.data);
}

/** Until `name` answers `want` on both nodes. */
async function bothAnswer(name: string, want: string[]): Promise<void> {
  for (const [port, node] of [
    [N1_DNS, 'n1'],
    [N2_DNS, 'n2'],
  ] as const) {
    await eventuallyAnswers(() => addresses(port, name), node, name, want, 'on both nodes', 20_000);
  }
}

before(async () => {
  await listenTcp();
  http = createHttpServer((req, res) => res.writeHead(req.url === '/healthz' ? httpStatus : 404).end());
  await new Promise<void>((resolve) => http!.listen(HTTP_PORT, '127.0.0.1', resolve));
  const check = `healthcheck {
        interval 100ms
        threshold 500ms
        timeout 300ms
    }
    prometheus 127.0.0.1:${METRICS}`;
  n1 = await startServer({ corefile: corefile(N1_DNS, N1_GOSSIP, check), files: { 'services.yaml': REGISTRY }, args: ['-node', 'n1'] });
  servers.push(n1);
  // n2 owns nothing that declares a check; it only sees n1's verdicts through gossip
  n2 = await startServer({ corefile: corefile(N2_DNS, N2_GOSSIP, 'healthcheck'), files: { 'services.yaml': 'services: []\n' }, args: ['-node', 'n2'] });
  servers.push(n2);
});

after(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  await close(tcp);
  http?.closeAllConnections();
  await close(http);
});

describe('health checks', () => {
  it('serves a listening TCP endpoint on the owner and on its peer', async () => {
    await bothAnswer('web.default.cluster.local', ['127.0.0.1']);
    await bothAnswer('plain.default.cluster.local', ['203.0.113.10']);
  });

  it('drops an endpoint whose port stops listening, everywhere, and brings it back', async () => {
    await bothAnswer('web.default.cluster.local', ['127.0.0.1']);
    await close(tcp);
    await bothAnswer('web.default.cluster.local', []);
    await n1.waitFor(
      new RegExp(
        `\\[INFO\\] registry: endpoint web-0\\.web\\.default 127\\.0\\.0\\.1 \\(node n1, source file:\\S+\\) is unhealthy: failing for [\\d.]+s: connect 127\\.0\\.0\\.1:${TCP_PORT}: .*ECONNREFUSED`,
      ),
    );
    await listenTcp();
    await bothAnswer('web.default.cluster.local', ['127.0.0.1']);
    await n1.waitFor(/registry: endpoint web-0\.web\.default 127\.0\.0\.1 \(node n1, source file:\S+\) is healthy: check passed/);
    // the unchecked endpoint never moved
    assert.deepEqual(await addresses(N2_DNS, 'plain.default.cluster.local'), ['203.0.113.10']);
  });

  it('follows an HTTP check: a 500 makes it unhealthy, a 200 healthy again', async () => {
    await bothAnswer('api.default.cluster.local', ['127.0.0.1']);
    httpStatus = 500;
    await bothAnswer('api.default.cluster.local', []);
    await n1.waitFor(new RegExp(`registry: endpoint api-0\\.api\\.default .* is unhealthy: .*GET http://127\\.0\\.0\\.1:${HTTP_PORT}/healthz: status 500`));
    httpStatus = 200;
    await bothAnswer('api.default.cluster.local', ['127.0.0.1']);
  });

  it('counts checks by result', async () => {
    const res = await fetch(`http://127.0.0.1:${METRICS}/metrics`);
    const text = await res.text();
    const count = (result: string) => Number(new RegExp(`^podswarm_health_checks_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    assert.ok(count('success') > 0, text);
    assert.ok(count('failure') > 0, text);
    assert.match(text, /^podswarm_gossip_members\{state="alive"\} 2$/m);
  });
});

describe('health check declarations', () => {
  async function refused(
    yaml: string,
    corefileText = 'cluster.local:17878 {\n  bind 127.0.0.1\n  cluster cluster.local {\n    registry services.yaml\n  }\n}\n',
  ): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'podswarm-test-'));
    writeFileSync(join(dir, 'services.yaml'), yaml);
    writeFileSync(join(dir, 'Corefile'), corefileText);
    const { code, output } = await runCli(['-conf', join(dir, 'Corefile')]);
    assert.equal(code, 1, output);
    return output;
  }

  it('refuses a check naming a port the endpoint does not have', async () => {
    const out = await refused(
      'services:\n  - name: a\n    ports: [{ name: http, port: 80 }]\n    health_check: { tcp: grpc }\n    endpoints: [{ address: 203.0.113.1 }]\n',
    );
    assert.match(out, /services\[0\]\.health_check\.tcp: no tcp port named "grpc"/);
  });

  it('refuses a check of the wrong shape', async () => {
    const out = await refused('services:\n  - name: a\n    endpoints:\n      - { address: 203.0.113.1, health_check: { http: healthz, port: 80 } }\n');
    assert.match(out, /services\[0\]\.endpoints\[0\]\.health_check\.http: expected a path starting with \//);
    const out2 = await refused('services:\n  - name: a\n    health_check: { udp: 53 }\n    endpoints: [{ address: 203.0.113.1 }]\n');
    assert.match(out2, /services\[0\]\.health_check: expected \{ tcp: PORT \} or \{ http: \/PATH, port: PORT \}/);
  });

  it('refuses an initially that is neither healthy nor unhealthy', async () => {
    const out = await refused('services:\n  - name: a\n    endpoints:\n      - { address: 203.0.113.1, health_check: { tcp: 80, initially: maybe } }\n');
    assert.match(out, /services\[0\]\.endpoints\[0\]\.health_check\.initially: expected healthy or unhealthy/);
  });

  it('a checked endpoint is not served until a check passes, unless declared initially: healthy', async () => {
    // Port `closed` is never opened: every check fails, and the 1 h threshold never takes a served endpoint out.
    const [closed, port] = await freePorts(2);
    const server = await startServer({
      files: {
        'services.yaml': `services:
  - name: ready
    endpoints:
      - { name: waits, address: 127.0.0.1, health_check: { tcp: ${closed} } }
      - { name: trusted, address: 127.0.0.2, health_check: { tcp: ${closed}, initially: healthy } }
`,
      },
      corefile: `cluster.local:${port} {
        bind 127.0.0.1
        healthcheck {
          interval 200ms
          threshold 1h
          timeout 100ms
        }
        cluster cluster.local {
          registry {{dir}}/services.yaml
        }
      }`,
    });
    try {
      await server.waitFor(/endpoint waits\.ready\.default 127\.0\.0\.1 .* registered, unhealthy/);
      const r = await dig(port, 'ready.default.cluster.local', 'A');
      assert.deepEqual(
        r.answer.map((x) => x.data),
        ['127.0.0.2'],
      );
      assert.equal((await dig(port, 'waits.ready.default.cluster.local', 'A')).status, 'NXDOMAIN');
    } finally {
      await server.stop();
    }
  });

  it('refuses bad healthcheck settings with FILE:LINE', async () => {
    const out = await refused('services: []\n', 'cluster.local:17878 {\n  bind 127.0.0.1\n  healthcheck {\n    interval 0\n  }\n}\n');
    assert.match(out, /Corefile:4: healthcheck: interval must be more than 0/);
    const out2 = await refused('services: []\n', 'cluster.local:17878 {\n  bind 127.0.0.1\n  healthcheck {\n    every 1s\n  }\n}\n');
    assert.match(out2, /Corefile:4: healthcheck: unknown property 'every'/);
  });
});
