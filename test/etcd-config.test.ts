// The `etcd` directive: every refused setting says FILE:LINE and why, and
// the process refuses such a Corefile before it serves. (What the backend
// does with a real etcd: etcd-cluster.test.ts, etcd-cluster3.test.ts.)

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { App } from '../src/app.js';
import { buildConfig } from '../src/config/build.js';
import { parseCorefile } from '../src/corefile/parse.js';
import { createLogger } from '../src/log.js';
import { parseEtcd } from '../plugins/etcd/config.js';
import { runCli } from './helpers/server.js';
import { NO_LIFECYCLE } from './helpers/no-lifecycle.js';

function build(body: string): void {
  const app = new App({ corefile: 'Corefile', quiet: true, nodeName: 't' }, createLogger({ json: false, out: new Writable({ write: (_c, _e, cb) => cb() }) }));
  buildConfig(parseCorefile(`.:18699 {\n${body}\n}\n`, 'Corefile'), app, NO_LIFECYCLE);
}

function settings(body: string): ReturnType<typeof parseEtcd> {
  return parseEtcd(parseCorefile(`.:18699 {\n${body}\n}\n`, 'Corefile')[0]!.directives[0]!);
}

const CASES: Array<[body: string, message: string]> = [
  ['etcd a..b', "Corefile:2: etcd: zone 'a..b' is not a domain name (e.g. cluster.local)"],
  ['etcd a b', 'Corefile:2: etcd: expected at most 1 argument, got 2'],
  ['etcd {\n  endpoint\n}', 'Corefile:3: endpoint: expected at least 1 argument, got 0'],
  ['etcd {\n  endpoint 10.0.0.1:2379\n}', "Corefile:3: etcd: endpoint '10.0.0.1:2379' is not a URL (expected http://HOST:PORT)"],
  ['etcd {\n  endpoint nowhere\n}', "Corefile:3: etcd: endpoint 'nowhere' is not a URL (expected http://HOST:PORT)"],
  ['etcd {\n  endpoint ftp://10.0.0.1:21\n}', "Corefile:3: etcd: endpoint 'ftp://10.0.0.1:21' must be http://HOST:PORT"],
  ['etcd {\n  endpoint http://10.0.0.1\n}', "Corefile:3: etcd: endpoint 'http://10.0.0.1' must be http://HOST:PORT"],
  ['etcd {\n  endpoint https://10.0.0.1:2379\n}', "Corefile:3: etcd: endpoint 'https://10.0.0.1:2379': TLS is not supported yet, use http://"],
  ['etcd {\n  path skydns\n}', "Corefile:3: etcd: path: 'skydns' is not a key path like /skydns (starts with /, no trailing /)"],
  ['etcd {\n  path /skydns/\n}', "Corefile:3: etcd: path: '/skydns/' is not a key path like /skydns (starts with /, no trailing /)"],
  [
    'etcd {\n  services_path /skydns/svc\n}',
    'Corefile:2: etcd: services_path /skydns/svc and path /skydns must not contain one another (each is watched as a tree of its own)',
  ],
  ['etcd {\n  lease_ttl 1s\n}', "Corefile:3: etcd: lease_ttl: expected whole seconds from 2s to 60m, got '1s'"],
  ['etcd {\n  lease_ttl 2500ms\n}', "Corefile:3: etcd: lease_ttl: expected whole seconds from 2s to 60m, got '2500ms'"],
  ['etcd {\n  lease_ttl soon\n}', "Corefile:3: etcd: lease_ttl: invalid duration 'soon' (expected e.g. 300ms, 5s, 1m30s, 2h)"],
  ['etcd {\n  ttl 3601\n}', "Corefile:3: etcd: ttl: expected an integer from 0 to 3600, got '3601'"],
  ['etcd {\n  dial_timeout 0\n}', 'Corefile:3: etcd: dial_timeout: must be longer than 0'],
  ['etcd {\n  tls cert key ca\n}', "Corefile:3: etcd: unknown property 'tls'"],
  ['etcd\netcd', 'Corefile:3: etcd: only one etcd directive per server block'],
  ['etcd\ngossip', 'Corefile:3: gossip: a node replicates its registry by gossip or by etcd, not both (this block has etcd too)'],
];

describe('etcd: settings', () => {
  it('defaults: the local etcd, the SkyDNS tree of cluster.local, a 10 s lease', () => {
    assert.deepEqual(settings('etcd'), {
      endpoints: ['http://127.0.0.1:2379'],
      zone: 'cluster.local',
      path: '/skydns',
      servicesPath: '/podswarm-dns/services',
      leaseTtlSeconds: 10,
      ttl: 60,
      dialTimeoutMs: 5000,
    });
  });

  it('takes every option', () => {
    const s = settings(
      'etcd Example.ORG. {\n  endpoint http://10.0.0.1:2379 http://[fd00::1]:2379\n  endpoint http://10.0.0.2:2379\n  path /dns\n  services_path /podswarm/defs\n  lease_ttl 1m\n  ttl 30\n  dial_timeout 2s\n}',
    );
    assert.deepEqual(s, {
      endpoints: ['http://10.0.0.1:2379', 'http://[fd00::1]:2379', 'http://10.0.0.2:2379'],
      zone: 'example.org',
      path: '/dns',
      servicesPath: '/podswarm/defs',
      leaseTtlSeconds: 60,
      ttl: 30,
      dialTimeoutMs: 2000,
    });
  });
});

describe('etcd: setup errors', () => {
  for (const [body, message] of CASES) {
    it(message, () => assert.throws(() => build(body), { message }));
  }

  it('the process refuses the Corefile with FILE:LINE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podswarm-test-'));
    const path = join(dir, 'Corefile');
    writeFileSync(path, '.:18699 {\n  bind 127.0.0.1\n  etcd {\n    lease_ttl 1s\n  }\n}\n');
    const r = await runCli(['-conf', path]);
    assert.equal(r.code, 1);
    assert.ok(r.output.includes(`${path}:4: etcd: lease_ttl: expected whole seconds from 2s to 60m, got '1s'`), r.output);
  });
});
