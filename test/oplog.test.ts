// The operator's log (issue 12, "read what happened"), read from real
// podswarm-dns processes: endpoint registered / removed / health changes,
// member join / leave / failure / rejoin, -log.level, the startup and
// shutdown lines, join retries, and -upstream-dns. Loopback only; ports
// from helpers/ports.ts.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCli, startServer, type RunningServer } from './helpers/server.js';
import { fastGossip } from './helpers/gossip-timing.js';
import { freePort, freePorts } from './helpers/ports.js';

const TOKEN = 'oplog-secret';
const started = new Set<RunningServer>();

async function start(opts: Parameters<typeof startServer>[0]): Promise<RunningServer> {
  const s = await startServer(opts);
  started.add(s);
  return s;
}

async function stop(s: RunningServer, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  started.delete(s);
  return s.stop(signal);
}

after(async () => {
  for (const s of [...started]) await stop(s, 'SIGKILL');
});

/** The lines of `s`'s output that match `re`. */
function lines(s: RunningServer, re: RegExp): string[] {
  return s
    .output()
    .split('\n')
    .filter((l) => re.test(l));
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer((c) => c.destroy()).once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

function close(srv: Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

const [DNS, API, CHECKED] = await freePorts(3);

describe('one node: endpoint lines, startup and shutdown', () => {
  let s: RunningServer;
  let port: Server | undefined;

  /** 40 services in the file (a sync: one summary line) and one endpoint with a TCP check on CHECKED. */
  function registry(): string {
    const many = Array.from({ length: 40 }, (_, i) => `  - name: bulk${i}\n    endpoints:\n      - { address: 203.0.113.${i + 1} }\n`).join('');
    return `services:\n${many}  - name: checked\n    endpoints:\n      - { name: c0, address: 127.0.0.1, health_check: { tcp: ${CHECKED} } }\n`;
  }

  before(async () => {
    port = await listen(CHECKED);
    s = await start({
      corefile: `cluster.local:${DNS} {
    bind 127.0.0.1
    api {
        listen 127.0.0.1:${API}
        token_file {{dir}}/token
    }
    healthcheck {
        interval 100ms
        threshold 0
        timeout 500ms
    }
    cluster cluster.local {
        registry {{dir}}/services.yaml
    }
}
`,
      files: { 'services.yaml': registry(), token: TOKEN },
      args: ['-node', 'n1', '-quiet'],
      ready: /\[INFO\] podswarm-dns-\S+ listening on /,
    });
  });

  after(async () => {
    if (port) await close(port);
  });

  it('says where it listens at INFO, even with -quiet (which drops only the banner)', () => {
    assert.match(
      s.output(),
      new RegExp(`^\\[INFO\\] podswarm-dns-\\d+\\.\\d+\\.\\d+\\S* listening on dns://127\\.0\\.0\\.1:${DNS} \\(udp (?:batch|dgram), tcp\\)$`, 'm'),
    );
    assert.doesNotMatch(s.output(), /^dns:\/\//m, 'the -quiet banner');
  });

  it('logs a file of 41 endpoints as one summary line, not one line each', async () => {
    await s.waitFor(/\[INFO\] registry: source file:\S+services\.yaml: 41 endpoint changes \(41 registered\); one line each at DEBUG/);
    // No line per registration (a checked endpoint's first passing check is its own event, and logged).
    assert.deepEqual(lines(s, /\[INFO\] registry: endpoint \S+ \S+ \([^)]+\) registered/), []);
  });

  it('logs an endpoint registered through the API, and its removal', async () => {
    const url = `http://127.0.0.1:${API}/api/v1/services/shop/web/endpoints/web-0`;
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const put = await fetch(url, { method: 'PUT', headers: auth, body: JSON.stringify({ address: '203.0.113.200' }) });
    assert.equal(put.status, 201);
    await s.waitFor(/^\[INFO\] registry: endpoint web-0\.web\.shop 203\.0\.113\.200 \(node n1, source api\) registered$/m);
    const del = await fetch(url, { method: 'DELETE', headers: auth });
    assert.equal(del.status, 204);
    await s.waitFor(/^\[INFO\] registry: endpoint web-0\.web\.shop 203\.0\.113\.200 \(node n1, source api\) removed$/m);
    assert.equal(lines(s, /web-0\.web\.shop/).length, 2, s.output());
  });

  it('logs a health change once, with the reason', async () => {
    await close(port!);
    port = undefined;
    const subject = esc('[INFO] registry: endpoint c0.checked.default 127.0.0.1 (node n1, source file:');
    await s.waitFor(
      new RegExp(
        `^${subject}\\S+services\\.yaml\\) is unhealthy: failing for [\\d.]+s: connect 127\\.0\\.0\\.1:${CHECKED}: connect ECONNREFUSED 127\\.0\\.0\\.1:${CHECKED}$`,
        'm',
      ),
    );
    port = await listen(CHECKED);
    await s.waitFor(new RegExp(`^${subject}\\S+services\\.yaml\\) is healthy: check passed$`, 'm'));
    // one line per change, though the checker runs every 100ms
    assert.equal(lines(s, /c0\.checked\.default/).length, 2, s.output());
  });

  it('says when it shuts down, and does not list the endpoints it drops', async () => {
    assert.equal(await stop(s), 0);
    const out = s.output();
    assert.match(out, /^\[INFO\] SIGTERM: shutting down\n(?:.*\n)*\[INFO\] stopped\n$/m);
    assert.doesNotMatch(out.slice(out.indexOf('shutting down')), /registry:/);
  });
});

// A seed nobody listens on: every join attempt fails.
const SEED_PORT = await freePort();

describe('-log.level and join retries', () => {
  const SEED = `127.0.0.1:${SEED_PORT}`;

  function corefile(dns: number, gossip: number): string {
    return `cluster.local:${dns} {
    bind 127.0.0.1
    gossip {
        bind 127.0.0.1:${gossip}
        join ${SEED}
        profile local
    }
    cluster cluster.local
}
`;
  }

  it('logs each failed join attempt as one WARNING line with the seed, the error and the next delay', async () => {
    const s = await start({ corefile: corefile(...(await freePorts(2))), args: ['-node', 'r1'] });
    await s.waitFor(/join failed, retrying in 2s/);
    await stop(s);
    const attempts = lines(s, new RegExp(String(SEED_PORT)));
    assert.equal(attempts.length, 2, s.output());
    assert.match(attempts[0]!, new RegExp(`^\\[WARNING\\] plugin/gossip: join failed, retrying in 1s: failed to join ${esc(SEED)}: .*ECONNREFUSED`));
    assert.match(attempts[1]!, new RegExp(`^\\[WARNING\\] plugin/gossip: join failed, retrying in 2s: failed to join ${esc(SEED)}: .*ECONNREFUSED`));
    assert.doesNotMatch(s.output(), /\[ERROR\]/);
  });

  it('-log.level warn prints WARNING lines and no INFO line', async () => {
    const s = await start({ corefile: corefile(...(await freePorts(2))), args: ['-node', 'r2', '-log.level', 'warn'] });
    await s.waitFor(/\[WARNING\] plugin\/gossip: join failed, retrying in 1s/);
    await stop(s);
    assert.deepEqual(lines(s, /^\[INFO\]/), []);
    assert.match(s.output(), /^podswarm-dns-\d/m, 'the banner is no log line: it still prints');
  });

  it('-log.level debug reaches -workers processes, which parse the same flags', async () => {
    const port = await freePort();
    const s = await start({
      corefile: `cluster.local:${port} {\n    bind 127.0.0.1\n    cluster cluster.local\n}\n`,
      args: ['-workers', '2', '-log.level', 'debug'],
    });
    assert.match(
      s.output(),
      new RegExp(`^\\[INFO\\] podswarm-dns-\\S+ listening on dns://127\\.0\\.0\\.1:${port} \\(udp (?:batch|dgram), tcp; 2 worker processes\\)$`, 'm'),
    );
    // each worker writes its own line; the primary's banner does not wait for them to reach the pipe
    await s.waitFor(new RegExp(`(?:^\\[DEBUG\\] worker \\d+ listening on dns://127\\.0\\.0\\.1:${port} \\(udp (?:batch|dgram), tcp\\)\\n[^]*){2}`, 'm'));
    assert.equal(lines(s, /^\[DEBUG\] worker \d+ listening on /).length, 2, s.output());
    await stop(s);
  });

  it('refuses an unknown level with the usage', async () => {
    const r = await runCli(['-log.level', 'verbose']);
    assert.equal(r.code, 2);
    assert.match(r.output, /-log\.level: 'verbose' is not one of debug, info, warn, error/);
    assert.match(r.output, /-log\.level LEVEL +debug\|info\|warn\|error/);
  });
});

describe('-upstream-dns takes IP addresses, as forward does', () => {
  it('refuses a host name, saying that names are not resolved', async () => {
    const r = await runCli(['-upstream-dns', '1.1.1.1,dns.google:53', '-conf', '/nonexistent']);
    assert.equal(r.code, 2);
    assert.match(
      r.output,
      /-upstream-dns: 'dns\.google:53': not an IP address \(upstreams are IP\[:PORT\] or \[IPv6\]:PORT, as forward's TO; host names are not resolved\)/,
    );
  });

  it('says IP in the usage', async () => {
    const r = await runCli(['-h']);
    assert.match(r.output, /-upstream-dns LIST +upstream servers IP\[:PORT\],\.\.\. \(\[IPv6\]:PORT\)/);
  });

  it('accepts dns:// as forward does', async () => {
    const s = await start({
      corefile: `.:${await freePort()} {\n    bind 127.0.0.1\n    forward . 127.0.0.1:9\n}\n`,
      args: ['-upstream-dns', 'dns://127.0.0.1:53,dns://[::1]'],
    });
    await stop(s);
  });
});

const MEMBER_PORTS = { 1: await nodePorts(), 2: await nodePorts(), 3: await nodePorts() };

async function nodePorts(): Promise<{ gossip: number; dns: number }> {
  const [gossip, dns] = await freePorts(2);
  return { gossip, dns };
}

describe('three gossiping nodes: member lines', () => {
  const NODES = [1, 2, 3] as const;
  type N = (typeof NODES)[number];
  const gossipPort = (i: N): number => MEMBER_PORTS[i].gossip;
  const dnsPort = (i: N): number => MEMBER_PORTS[i].dns;
  const nodes = new Map<N, RunningServer>();

  async function startNode(i: N): Promise<RunningServer> {
    const join = i === 1 ? '' : `\n        join 127.0.0.1:${gossipPort(1)}`;
    const s = await start({
      corefile: `cluster.local:${dnsPort(i)} {
    bind 127.0.0.1
    gossip {
        bind 127.0.0.1:${gossipPort(i)}${join}
        ${fastGossip('        ')}
        reconnect_interval 500ms
        # A departed node's endpoints are kept for keep_departed (30 s by default): 1 s here, so their removal is logged soon.
        keep_departed 1s
    }
    cluster cluster.local {
        registry {{dir}}/services.yaml
    }
}
`,
      files: { 'services.yaml': `services:\n  - name: svc${i}\n    endpoints:\n      - { name: e${i}, address: 203.0.113.${i} }\n` },
      args: ['-node', `n${i}`],
    });
    nodes.set(i, s);
    return s;
  }

  const member = (i: N, what: string): RegExp => new RegExp(`^\\[INFO\\] plugin/gossip: member n${i} ${what} \\(127\\.0\\.0\\.1:${gossipPort(i)}\\)$`, 'm');
  const endpoint = (i: N, what: string): RegExp =>
    new RegExp(`^\\[INFO\\] registry: endpoint e${i}\\.svc${i}\\.default 203\\.0\\.113\\.${i} \\(node n${i}, source gossip:n${i}\\) ${what}$`, 'm');

  before(async () => {
    for (const i of NODES) await startNode(i);
  });

  it('logs every member that joins, and the endpoints it brings', async () => {
    const n1 = nodes.get(1)!;
    for (const i of [2, 3] as const) {
      await n1.waitFor(member(i, 'joined'));
      await n1.waitFor(endpoint(i, 'registered'));
    }
    await nodes.get(3)!.waitFor(member(2, 'joined'));
    assert.doesNotMatch(n1.output(), /member n1 /, 'a node does not log itself as a member');
  });

  it('logs a member that leaves gracefully (SIGTERM) as left', async () => {
    await stop(nodes.get(3)!);
    for (const i of [1, 2] as const) {
      await nodes.get(i)!.waitFor(member(3, 'left'));
      await nodes.get(i)!.waitFor(endpoint(3, 'removed'));
    }
    assert.doesNotMatch(nodes.get(1)!.output(), member(3, 'failed'));
  });

  it('logs a killed member (SIGKILL) as failed, and its restart as a rejoin', async () => {
    const n1 = nodes.get(1)!;
    await stop(nodes.get(2)!, 'SIGKILL');
    await n1.waitFor(member(2, 'failed'), 15_000);
    await n1.waitFor(endpoint(2, 'removed'));
    await startNode(2);
    await n1.waitFor(member(2, 'rejoined'), 15_000);
    assert.equal(lines(n1, /member n2 /).length, 3, n1.output());
  });
});
