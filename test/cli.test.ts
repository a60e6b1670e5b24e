// The command line and configuration errors: a bad Corefile or registry file
// is refused at start with FILE:LINE (or file: path) and the reason.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from './helpers/dig.js';
import { freePort } from './helpers/ports.js';
import { runCli, startServer, type RunningServer } from './helpers/server.js';

function corefile(text: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'podswarm-cli-'));
  for (const [n, c] of Object.entries(files)) writeFileSync(join(dir, n), c);
  const path = join(dir, 'Corefile');
  writeFileSync(path, text.replaceAll('{{dir}}', dir));
  return path;
}

describe('CLI', () => {
  it('-plugins lists the compiled plugins in chain order', async () => {
    const r = await runCli(['-plugins']);
    assert.equal(r.code, 0);
    const names = r.output.trim().split('\n');
    assert.ok(names.indexOf('srv') < names.indexOf('cluster'), names.join(','));
    assert.ok(names.includes('bind'));
  });

  it('-version prints the package version', async () => {
    const r = await runCli(['-version']);
    assert.equal(r.code, 0);
    assert.match(r.output, /^podswarm-dns-\d+\.\d+\.\d+\n$/);
  });

  it('refuses an unknown option with usage', async () => {
    const r = await runCli(['-nope']);
    assert.equal(r.code, 2);
    assert.match(r.output, /unknown option '-nope'/);
    assert.match(r.output, /Usage: podswarm-dns/);
  });

  it('refuses a bad --upstream-dns value', async () => {
    const r = await runCli(['--upstream-dns', '1.2.3.4:99999', '-conf', corefile('.:18010 {\n bind 127.0.0.1\n}\n')]);
    assert.equal(r.code, 2);
    assert.match(r.output, /-upstream-dns: '1\.2\.3\.4:99999': port out of range/);
  });
});

describe('a listener that cannot bind says why', () => {
  it('an address this host does not have names setup link', async () => {
    // Only bound, never sent to: 169.254.77.77 exists nowhere on this machine.
    const r = await runCli(['-conf', corefile('.:18011 {\n bind 169.254.77.77\n whoami\n}\n')]);
    assert.equal(r.code, 1);
    assert.match(
      r.output,
      /listen udp 169\.254\.77\.77:18011: bind EADDRNOTAVAIL .*: 169\.254\.77\.77 is not an address of this host .*`podswarm-dns setup link`/,
    );
  });
});

describe('Corefile errors are refused with FILE:LINE and the reason', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['unknown directive', '.:18011 {\n  bind 127.0.0.1\n  frobnicate\n}\n', /Corefile:3: unknown directive 'frobnicate'/],
    ['unclosed block', '.:18011 {\n  bind 127.0.0.1\n  cluster {\n', /Corefile:\d+: .*(unclosed|unexpected end)/i],
    ['missing argument', '.:18011 {\n  bind 127.0.0.1\n  cluster {\n    ttl\n  }\n}\n', /Corefile:4: ttl: expected exactly 1 argument, got 0/],
    ['bad value', '.:18011 {\n  cluster {\n    ttl 99999\n  }\n}\n', /Corefile:3: cluster: ttl: expected an integer from 0 to 3600, got '99999'/],
    ['unknown property', '.:18011 {\n  cluster {\n    bogus 1\n  }\n}\n', /Corefile:3: cluster: unknown property 'bogus'/],
    [
      'duplicate zone and port',
      'a.:18011 {\n bind 127.0.0.1\n}\na.:18011 {\n bind 127.0.0.1\n}\n',
      /Corefile:4: .*a\.:18011.*(defined more than once|first at line 1)/,
    ],
    ['bad bind address', '.:18011 {\n  bind nowhere\n}\n', /Corefile:2: bind: 'nowhere' is not an IP address/],
  ];
  for (const [what, text, re] of cases) {
    it(what, async () => {
      const r = await runCli(['-conf', corefile(text)]);
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, re);
    });
  }

  it('a bad registry file names the file and the field', async () => {
    const path = corefile(`.:${await freePort()} {\n bind 127.0.0.1\n cluster {\n  registry {{dir}}/r.yaml\n }\n}\n`, {
      'r.yaml': 'services:\n  - name: api\n    endpoints:\n      - { address: not-an-ip }\n',
    });
    const r = await runCli(['-conf', path]);
    assert.equal(r.code, 1);
    assert.match(r.output, /r\.yaml: services\[0\]\.endpoints\[0\]\.address: not an IP address/);
  });
});

const PORT = await freePort();

describe('registry file and -dns.port', () => {
  let srv: RunningServer | undefined;
  after(() => srv?.stop());

  it('-dns.port overrides the Corefile port, and an edited registry file is served at once', async () => {
    srv = await startServer({
      corefile: '.:53 {\n bind 127.0.0.1\n cluster {\n  registry {{dir}}/r.yaml\n }\n}\n',
      files: { 'r.yaml': 'services:\n  - name: web\n    endpoints:\n      - { address: 10.1.0.1 }\n' },
      args: ['-dns.port', String(PORT)],
    });
    assert.match(srv.output(), new RegExp(`dns://127\\.0\\.0\\.1:${PORT}`));
    assert.deepEqual(
      (await dig(PORT, 'web.default.cluster.local')).answer.map((a) => a.data),
      ['10.1.0.1'],
    );
    writeFileSync(join(srv.dir, 'r.yaml'), 'services:\n  - name: web\n    endpoints:\n      - { address: 10.1.0.1 }\n      - { address: 10.1.0.2 }\n');
    const deadline = Date.now() + 5000;
    let answers: string[] = [];
    while (Date.now() < deadline) {
      answers = (await dig(PORT, 'web.default.cluster.local')).answer.map((a) => a.data);
      if (answers.length === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(answers, ['10.1.0.1', '10.1.0.2']);
  });

  it('a registry file broken after start keeps the last good contents serving and logs why', async () => {
    assert.ok(srv);
    writeFileSync(join(srv.dir, 'r.yaml'), 'services: [ {name: web, endpoints: [ {address: nope} ] } ]\n');
    await srv.waitFor(/registry file not applied, previous contents still serving: .*address: not an IP address/);
    assert.deepEqual(
      (await dig(PORT, 'web.default.cluster.local')).answer.map((a) => a.data),
      ['10.1.0.1', '10.1.0.2'],
    );
  });
});
