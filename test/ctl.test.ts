// The operator subcommands (members, services, endpoints, lookup, register,
// deregister, keygen) run as the real CLI against a cluster of two real
// podswarm-dns processes gossiping on loopback, encrypted with a key from
// `keygen`, with a dnsmasq upstream on loopback for forwarded names.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsmasq, stopAllDnsmasq, type Dnsmasq } from './helpers/dnsmasq.js';
import { eventually } from './helpers/eventually.js';
import { schemaProblems } from './helpers/schema.js';
import { runCli, startServer, type RunningServer } from './helpers/server.js';
import { fastGossip } from './helpers/gossip-timing.js';
import { freePorts } from './helpers/ports.js';

/** UNUSED_PORT: nothing listens there. */
const [UPSTREAM_PORT, UNUSED_PORT] = await freePorts(2);
const TOKEN = 'ctl-test-token';

/** A node's ports: DNS, API, metrics, gossip. */
async function nodePorts(): Promise<{ dns: number; api: number; metrics: number; gossip: number }> {
  const [dns, api, metrics, gossip] = await freePorts(4);
  return { dns, api, metrics, gossip };
}
const NODES = { n1: await nodePorts(), n2: await nodePorts() };
type Node = keyof typeof NODES;
const ports = (n: Node) => NODES[n];
const apiUrl = (n: Node): string => `http://127.0.0.1:${ports(n).api}`;

const REGISTRY: Record<Node, string> = {
  n1: `services:
  - name: web
    namespace: shop
    ports:
      - { name: http, port: 8080 }
    endpoints:
      - { name: web-0, address: 10.0.7.1 }
      - { name: web-1, address: 10.0.7.2, healthy: false }
`,
  n2: `services:
  - name: db
    namespace: shop
    ports:
      - { name: pg, port: 5432 }
    endpoints:
      - { name: db-0, address: 10.0.7.9 }
`,
};

function corefile(n: Node, key: string): string {
  const p = ports(n);
  const other = ports(n === 'n1' ? 'n2' : 'n1');
  return `.:${p.dns} {
  bind 127.0.0.1
  prometheus 127.0.0.1:${p.metrics}
  api {
    listen 127.0.0.1:${p.api}
    token_file {{dir}}/token
  }
  gossip {
    bind 127.0.0.1:${p.gossip}
    join 127.0.0.1:${other.gossip}
    encrypt ${key}
    ${fastGossip('    ')}
    gossip_to_the_dead 60s
    reconnect_interval 500ms
  }
  cluster cluster.local {
    registry {{dir}}/services.yaml
  }
  cache
  forward . 127.0.0.1:${UPSTREAM_PORT}
}
`;
}

/** `podswarm-dns ARGS` to completion. On success stdout is all it prints, so `output` is the JSON with --json. */
const ctl = (...args: string[]) => runCli(args);
const ctlJson = async (...args: string[]): Promise<any> => {
  const r = await ctl(...args, '--json');
  assert.equal(r.code, 0, r.output);
  return JSON.parse(r.output);
};
const api = async (n: Node, path: string): Promise<any> => (await fetch(`${apiUrl(n)}/api/v1${path}`)).json();

describe('podswarm-dns operator subcommands', () => {
  const servers = new Map<Node, RunningServer>();
  let upstream: Dnsmasq;
  let key = '';
  let keyOutput = '';

  before(async () => {
    // The key every node encrypts gossip with comes from keygen: the plugin accepting it is part of the test.
    const k = await ctl('keygen');
    assert.equal(k.code, 0, k.output);
    keyOutput = k.output;
    key = k.output.trim();
    upstream = await dnsmasq(UPSTREAM_PORT, ['outside.example,203.0.113.80']);
    for (const n of ['n1', 'n2'] as const) {
      servers.set(
        n,
        await startServer({
          corefile: corefile(n, key),
          files: { 'services.yaml': REGISTRY[n], token: `${TOKEN}\n`, wrong: 'not-the-token\n' },
          args: ['-node', n],
        }),
      );
    }
  });
  after(async () => {
    for (const s of servers.values()) await s.stop('SIGKILL');
    await upstream?.stop();
    stopAllDnsmasq();
  });

  const tokenFile = (name = 'token'): string => `${servers.get('n1')!.dir}/${name}`;
  const bothAlive = async (n: Node) =>
    eventually(
      () => ctlJson('members', '--api', apiUrl(n)),
      (r) => r.members.length === 2 && r.members.every((m: any) => m.state === 'alive'),
      `${n} lists both nodes alive`,
    );

  test('keygen prints a base64 key of 32 bytes, which the gossip plugin encrypts with', async () => {
    assert.match(keyOutput, /^[A-Za-z0-9+/]{43}=\n$/);
    assert.equal(Buffer.from(key, 'base64').length, 32);
    const { key: other } = await ctlJson('keygen');
    assert.equal(Buffer.from(other, 'base64').length, 32);
    assert.notEqual(other, key);
    for (const s of servers.values()) assert.match(s.output(), /gossiping on 127\.0\.0\.1:\d+, advertising .*, encrypted/);
    await bothAlive('n1');
  });

  test('members: both nodes alive, this node first, as the OpenAPI schema says', async () => {
    const r = await bothAlive('n2');
    assert.equal(r.gossip, true);
    assert.deepEqual(
      r.members.map((m: any) => [m.name, m.self, m.address, m.port]),
      [
        ['n2', true, '127.0.0.1', ports('n2').gossip],
        ['n1', false, '127.0.0.1', ports('n1').gossip],
      ],
    );
    for (const m of r.members) {
      assert.equal(m.tags.role, 'podswarm-dns');
      assert.ok(m.protocol.min <= m.protocol.current && m.protocol.current <= m.protocol.max, JSON.stringify(m.protocol));
      assert.ok(m.delegate.min <= m.delegate.current && m.delegate.current <= m.delegate.max, JSON.stringify(m.delegate));
      assert.ok(m.incarnation >= 1);
    }
    assert.deepEqual(await api('n2', '/members'), r);
    const doc = await api('n2', '/openapi.json');
    assert.deepEqual(schemaProblems(doc.paths['/api/v1/members'].get.responses['200'].content['application/json'].schema, r), []);

    const table = await ctl('members', '--api', apiUrl('n2'));
    assert.equal(table.code, 0, table.output);
    const [header, ...rows] = table.output.trimEnd().split('\n');
    assert.match(header!, /^NAME\s+ADDRESS\s+STATE\s+SINCE\s+INCARNATION\s+PROTOCOL\s+DELEGATE\s+TAGS$/);
    assert.match(
      rows[0]!,
      new RegExp(`^n2\\s+127\\.0\\.0\\.1:${ports('n2').gossip}\\s+alive\\s+\\S+Z\\s+\\d+\\s+\\d \\[1-5\\]\\s+\\d \\[\\d-\\d\\]\\s+role=podswarm-dns$`),
    );
    assert.match(rows[1]!, /^n1\s+127\.0\.0\.1:\d+\s+alive\s/);
  });

  test('services and endpoints print what the API returns, gossiped endpoints with their source', async () => {
    await eventually(
      () => api('n1', '/services'),
      (s) => s.length === 2,
      'n1 has learnt shop/db from n2',
    );
    assert.deepEqual(await ctlJson('services', '--api', apiUrl('n1')), await api('n1', '/services'));
    assert.deepEqual(await ctlJson('services', 'shop', '--api', apiUrl('n1')), await api('n1', '/services/shop'));
    const web = await ctl('services', '--api', apiUrl('n1'));
    assert.equal(web.code, 0, web.output);
    assert.deepEqual(
      web.output
        .trimEnd()
        .split('\n')
        .map((l) => l.split(/\s+/)),
      [
        ['NAMESPACE', 'NAME', 'PORTS', 'ENDPOINTS', 'HEALTHY'],
        ['shop', 'db', 'pg:5432/tcp', '1', '1'],
        ['shop', 'web', 'http:8080/tcp', '2', '1'],
      ],
    );

    const eps = await ctlJson('endpoints', 'shop/web', '--api', apiUrl('n1'));
    assert.deepEqual(eps, await api('n1', '/services/shop/web/endpoints'));
    assert.deepEqual(await ctlJson('endpoints', 'shop/web', '--healthy', '--api', apiUrl('n1')), [eps[0]]);
    const local = await ctl('endpoints', 'shop/web', '--api', apiUrl('n1'));
    assert.deepEqual(
      local.output
        .trimEnd()
        .split('\n')
        .map((l) => l.split(/\s+/)),
      [
        ['NAME', 'ADDRESS', 'PORTS', 'HEALTH', 'NODE', 'SOURCE'],
        ['web-0', '10.0.7.1', 'http:8080/tcp', 'healthy', 'n1', `file:${servers.get('n1')!.dir}/services.yaml`],
        ['web-1', '10.0.7.2', 'http:8080/tcp', 'unhealthy', 'n1', `file:${servers.get('n1')!.dir}/services.yaml`],
      ],
    );
    const remote = await ctl('endpoints', 'shop/db', '--api', apiUrl('n1'));
    assert.deepEqual(remote.output.trimEnd().split('\n')[1]!.split(/\s+/), ['db-0', '10.0.7.9', 'pg:5432/tcp', 'healthy', 'n2', 'gossip:n2']);
  });

  test('unknown namespaces and services: exit 3 with the API’s message', async () => {
    const svc = await ctl('endpoints', 'shop/nope', '--api', apiUrl('n1'));
    assert.equal(svc.code, 3);
    assert.match(svc.output, /podswarm-dns endpoints: service 'nope' not found in namespace 'shop'/);
    const ns = await ctl('services', 'nowhere', '--api', apiUrl('n1'));
    assert.equal(ns.code, 3);
    assert.match(ns.output, /namespace 'nowhere' not found/);
    const bad = await ctl('endpoints', 'Shop_1/web', '--api', apiUrl('n1'));
    assert.equal(bad.code, 2);
    assert.match(bad.output, /malformed namespace "Shop_1"/);
  });

  test('lookup names the plugin that answered: cluster, forward, then cache', async () => {
    const dns = ['--dns', `127.0.0.1:${ports('n1').dns}`, '--metrics', `127.0.0.1:${ports('n1').metrics}`];
    const cluster = await ctl('lookup', 'web.shop.cluster.local', ...dns);
    assert.equal(cluster.code, 0, cluster.output);
    assert.match(cluster.output, /^NAME\s+TTL\s+CLASS\s+TYPE\s+DATA\nweb\.shop\.cluster\.local\.\s+\d+\s+IN\s+A\s+10\.0\.7\.1\n/);
    assert.match(cluster.output, new RegExp(`NOERROR from 127\\.0\\.0\\.1:${ports('n1').dns} over udp \\(flags: qr aa rd[^)]*\\), answered by cluster\\n$`));

    const forwarded = await ctlJson('lookup', 'outside.example', 'A', ...dns);
    assert.deepEqual(
      forwarded.answers.map((a: any) => a.data),
      ['203.0.113.80'],
    );
    assert.equal(forwarded.rcode, 'NOERROR');
    assert.deepEqual(forwarded.answeredBy, { plugin: 'forward', counted: { forward: 1 } });
    const cached = await ctlJson('lookup', 'outside.example', ...dns);
    assert.deepEqual(cached.answeredBy, { plugin: 'cache', counted: { cache: 1 } });
    assert.deepEqual(
      cached.answers.map((a: any) => a.data),
      ['203.0.113.80'],
    );

    const gone = await ctl('lookup', 'nothing.shop.cluster.local', ...dns);
    assert.equal(gone.code, 3, gone.output);
    assert.match(gone.output, /^NXDOMAIN from .* answered by cluster\n$/);
    const noMetrics = await ctl('lookup', 'web.shop.cluster.local', '--dns', `127.0.0.1:${ports('n1').dns}`, '--metrics', `127.0.0.1:${UNUSED_PORT}`);
    assert.equal(noMetrics.code, 0, noMetrics.output);
    assert.match(
      noMetrics.output,
      new RegExp(
        `answered by unknown: cannot read http://127\\.0\\.0\\.1:${UNUSED_PORT}/metrics \\(.*ECONNREFUSED.*\\): point --metrics at the node's prometheus address`,
      ),
    );
  });

  test('register and deregister: the token is needed, checked and named in the error', async () => {
    const args = ['register', 'shop/web', 'ext-0', '10.0.7.50', '--port', 'http:9090', '--port', 'metrics:9100/tcp', '--api', apiUrl('n1')];
    const none = await ctl(...args);
    assert.equal(none.code, 4);
    assert.match(
      none.output,
      new RegExp(`the API at http://127\\.0\\.0\\.1:${ports('n1').api} wants its token .*missing bearer token.*: pass --token-file FILE`),
    );
    const wrong = await ctl(...args, '--token-file', tokenFile('wrong'));
    assert.equal(wrong.code, 4);
    assert.match(wrong.output, /refused the token in \S+\/wrong \(invalid bearer token\)/);
    const missing = await ctl(...args, '--token-file', tokenFile('absent'));
    assert.equal(missing.code, 1);
    assert.match(missing.output, /--token-file: cannot read \S+\/absent: ENOENT/);

    const ok = await ctl(...args, '--token-file', tokenFile());
    assert.equal(ok.code, 0, ok.output);
    assert.equal(ok.output, 'registered shop/web endpoint ext-0: 10.0.7.50 http:9090/tcp,metrics:9100/tcp on node n1\n');
    const here = (await api('n1', '/services/shop/web/endpoints')).find((e: any) => e.name === 'ext-0');
    assert.deepEqual([here.address, here.source, here.nodeName], ['10.0.7.50', 'api', 'n1']);
    // Registered on n1, served by n2 too.
    await eventually(
      () => api('n2', '/services/shop/web/endpoints'),
      (eps) => eps.some((e: any) => e.name === 'ext-0' && e.source === 'gossip:n1'),
      'n2 learns ext-0',
    );

    const replaced = await ctlJson('register', 'shop/web', 'ext-0', '10.0.7.51', '--node', 'edge-1', '--api', apiUrl('n1'), '--token-file', tokenFile());
    assert.deepEqual([replaced.address, replaced.nodeName, replaced.source, replaced.port], ['10.0.7.51', 'edge-1', 'api', 8080]);

    const foreign = await ctl('deregister', 'shop/web', 'web-0', '--api', apiUrl('n1'), '--token-file', tokenFile());
    assert.equal(foreign.code, 4);
    assert.match(foreign.output, /was not registered through the API/);
    const del = await ctlJson('deregister', 'shop/web', 'ext-0', '--api', apiUrl('n1'), '--token-file', tokenFile());
    assert.deepEqual(del, { namespace: 'shop', service: 'web', name: 'ext-0', deregistered: true });
    assert.ok(!(await api('n1', '/services/shop/web/endpoints')).some((e: any) => e.name === 'ext-0'));
    const again = await ctl('deregister', 'shop/web', 'ext-0', '--api', apiUrl('n1'), '--token-file', tokenFile());
    assert.equal(again.code, 3);
    assert.match(again.output, /endpoint 'ext-0' of service 'web' in namespace 'shop' not found/);
    await eventually(
      () => api('n2', '/services/shop/web/endpoints'),
      (eps) => !eps.some((e: any) => e.name === 'ext-0'),
      'n2 drops ext-0',
    );
  });

  test('bad arguments: exit 2 with the usage line', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['register', 'shop/web', 'x', '10.0.7.5', '--port', 'http'], /--port 'http': expected NAME:PORT\[\/tcp\|udp\]/],
      [['register', 'shop/web', 'x', 'not-an-ip'], /'not-an-ip' is not an IPv4 or IPv6 address/],
      [['endpoints', 'web'], /'web' is not NS\/SVC/],
      [['lookup', 'web.shop.cluster.local', 'BOGUS'], /unsupported TYPE 'BOGUS'/],
      [['lookup', 'x', '--dns', 'localhost:53'], /--dns 'localhost:53': not an IP address/],
      [['members', 'extra'], /unexpected argument 'extra'/],
      [['members', '--colour'], /unknown option '--colour'/],
      [['deregister', 'shop/web'], /missing arguments/],
    ];
    for (const [args, message] of cases) {
      const r = await ctl(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.output}`);
      assert.match(r.output, message);
      assert.match(r.output, new RegExp(`Usage: podswarm-dns ${args[0]} `));
    }
  });

  test('--help for every subcommand', async () => {
    for (const cmd of ['members', 'services', 'endpoints', 'lookup', 'register', 'deregister', 'keygen']) {
      const r = await ctl(cmd, '--help');
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, new RegExp(`^Usage: podswarm-dns ${cmd}`));
      assert.match(r.output, /Exit status: 0 ok, 1 error .* 2 usage, 3 not found, 4 refused/);
    }
  });

  test('an unreachable API or DNS: exit 1, naming the address tried and the option to change it', async () => {
    const r = await ctl('members', '--api', `http://127.0.0.1:${UNUSED_PORT}`);
    assert.equal(r.code, 1);
    assert.match(r.output, new RegExp(`cannot reach the node's API at http://127\\.0\\.0\\.1:${UNUSED_PORT} \\(.*ECONNREFUSED.*\\)\\..*Point --api`));
    const d = await ctl('lookup', 'web.shop.cluster.local', '--dns', `127.0.0.1:${UNUSED_PORT}`, '--metrics', `127.0.0.1:${ports('n1').metrics}`);
    assert.equal(d.code, 1);
    assert.match(d.output, new RegExp(`no DNS answer from 127\\.0\\.0\\.1:${UNUSED_PORT}: .*Point --dns`));
  });

  test('members: a killed node shows as dead on the other', async () => {
    await servers.get('n2')!.stop('SIGKILL');
    const r = await eventually(
      () => ctlJson('members', '--api', apiUrl('n1')),
      (m) => m.members.find((x: any) => x.name === 'n2')?.state === 'dead',
      'n1 sees n2 dead',
    );
    assert.equal(r.members.find((x: any) => x.name === 'n1').state, 'alive');
    const table = await ctl('members', '--api', apiUrl('n1'));
    assert.match(table.output, /^n2\s+127\.0\.0\.1:\d+\s+dead\s/m);
  });
});
