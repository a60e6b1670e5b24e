// Setup errors of loadbalance, acl, hosts, rewrite, whoami, any, bufsize and
// loop: each names FILE:LINE and the plugin; one case through the CLI.

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
import { runCli } from './helpers/server.js';
import { NO_LIFECYCLE } from './helpers/no-lifecycle.js';

function build(body: string): void {
  const app = new App({ corefile: 'Corefile', quiet: true, nodeName: 't' }, createLogger({ json: false, out: new Writable({ write: (_c, _e, cb) => cb() }) }));
  buildConfig(parseCorefile(`.:18699 {\n${body}\n}\n`, 'Corefile'), app, NO_LIFECYCLE);
}

const CASES: Array<[body: string, message: string]> = [
  ['loadbalance weighted w.txt', "Corefile:2: loadbalance: unknown policy 'weighted' (supported: round_robin)"],
  ['loadbalance\nloadbalance', 'Corefile:3: loadbalance: only one loadbalance directive per server block'],
  ['acl {\n  deny net 10.0.0.0/8\n}', "Corefile:3: acl: unexpected token 'deny'; expect 'allow', 'block', 'filter' or 'drop'"],
  ['acl {\n  block net 10.0.0.0/33\n}', "Corefile:3: acl: illegal CIDR notation '10.0.0.0/33'"],
  ['acl {\n  block type BOGUS\n}', "Corefile:3: acl: unexpected token 'BOGUS'; expect a legal QTYPE (e.g. A, AAAA, TYPE65)"],
  ['acl {\n  block type\n}', "Corefile:3: acl: no value given in 'type' section"],
  ['acl {\n  block port 53\n}', "Corefile:3: acl: unexpected token 'port'; expect 'type' or 'net'"],
  ['hosts {\n  ttl 0\n}', "Corefile:3: hosts: ttl: expected an integer from 1 to 65535, got '0'"],
  ['hosts {\n  reload soon\n}', "Corefile:3: hosts: reload: invalid duration 'soon' (expected e.g. 300ms, 5s, 1m30s, 2h)"],
  ['hosts {\n  fallthrough\n  10.0.0.1 a.example.org\n}', "Corefile:4: hosts: unknown property '10.0.0.1'"],
  ['hosts {\n  fallthrough_unsupported\n}', 'Corefile:2: hosts: fallthrough_unsupported requires fallthrough'],
  ['hosts\nhosts', 'Corefile:3: hosts: only one hosts directive per server block'],
  ['rewrite name', 'Corefile:2: rewrite: too few arguments for a name rule'],
  ['rewrite name fuzzy a b', 'Corefile:2: rewrite: name rule supports only exact, prefix, suffix, substring, and regex name matching, received: fuzzy'],
  ['rewrite name regex (a b.', "Corefile:2: rewrite: invalid regex pattern '(a': Invalid regular expression: /(a/: Unterminated group"],
  ['rewrite name regex (a)\\.org {2}.org', "Corefile:2: rewrite: the rewrite regex '(a)\\.org' has 1 groups, but '{2}.org' uses {2}"],
  ['rewrite name suffix .a. .b. answer auto answer name x y', 'Corefile:2: rewrite: auto name answer rule cannot be combined with explicit name answer rules'],
  ['rewrite name suffix .a. .b. auto', "Corefile:2: rewrite: unexpected 'auto' after a name rule; expected 'answer'"],
  ['rewrite ttl example.org 30-10', "Corefile:2: rewrite: invalid TTL '30-10' for a ttl rule"],
  ['rewrite type A BOGUS', "Corefile:2: rewrite: invalid type 'BOGUS'"],
  ['rewrite edns0 local set 0xffee abcd', "Corefile:2: rewrite: 'edns0' rules are not supported"],
  ['rewrite stop', 'Corefile:2: rewrite: stop rule must begin with a rule type'],
  ['rewrite answer auto', 'Corefile:2: rewrite: response rewrites must begin with a name rule'],
  ['whoami extra', 'Corefile:2: whoami: expected no arguments, got 1'],
  ['any {\n}', 'Corefile:2: any: does not take a block'],
  ['bufsize 4097', "Corefile:2: bufsize: expected an integer from 512 to 4096, got '4097'"],
  ['bufsize 1232 512', 'Corefile:2: bufsize: expected at most 1 argument, got 2'],
  ['loop now', 'Corefile:2: loop: expected no arguments, got 1'],
];

describe('operational plugins: setup errors', () => {
  for (const [body, message] of CASES) {
    it(message, () => assert.throws(() => build(body), { message }));
  }

  it('the process refuses the Corefile with FILE:LINE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podswarm-test-'));
    const path = join(dir, 'Corefile');
    writeFileSync(path, '.:18699 {\n  bind 127.0.0.1\n  acl {\n    drop net nowhere\n  }\n}\n');
    const r = await runCli(['-conf', path]);
    assert.equal(r.code, 1);
    assert.ok(r.output.includes(`${path}:4: acl: illegal CIDR notation 'nowhere'`), r.output);
  });
});
