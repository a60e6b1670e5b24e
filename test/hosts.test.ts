// hosts: the /etc/hosts parser, and in the real server the file and inline
// entries, AAAA, PTR (v4 and v6), wildcards, NODATA, fallthrough and a
// reload when the file changes.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lookup, parseHosts } from '../plugins/hosts/hostsfile.js';
import { dig } from './helpers/dig.js';
import { freePort } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

const PORT = await freePort();

describe('hosts: file format', () => {
  const text = [
    '# comment line',
    '127.0.0.1   localhost',
    '10.0.0.1    Web.Example.org  alias.example.org   # trailing comment',
    'fe80::1%eth0  link.example.org',
    '10.0.0.9    *.wild.example.org',
    'not-an-ip   bad.example.org',
    '10.0.0.2',
  ].join('\n');

  it('keeps names inside the zones, lowercased, with reverse entries', () => {
    const m = parseHosts(text, ['example.org.'], true);
    assert.deepEqual([...m.v4.keys()], ['web.example.org.', 'alias.example.org.']);
    assert.deepEqual(m.v6.get('link.example.org.'), ['fe80::1']);
    assert.deepEqual(m.byAddress.get('10.0.0.1'), ['web.example.org.', 'alias.example.org.']);
    assert.equal(m.byAddress.has('10.0.0.9'), false, 'wildcards get no PTR');
  });

  it('matches a wildcard for exactly one label', () => {
    const m = parseHosts(text, ['.'], true);
    assert.deepEqual(lookup(m.v4, m.wild4, 'x.wild.example.org.'), ['10.0.0.9']);
    assert.deepEqual(lookup(m.v4, m.wild4, 'a.b.wild.example.org.'), []);
    assert.deepEqual(lookup(m.v4, m.wild4, 'wild.example.org.'), []);
    assert.deepEqual(lookup(m.v4, m.wild4, 'localhost.'), ['127.0.0.1']);
  });

  it('no_reverse leaves out the PTR data', () => {
    assert.equal(parseHosts(text, ['.'], false).byAddress.size, 0);
  });
});

describe('hosts: end to end', () => {
  let srv: RunningServer;
  before(async () => {
    srv = await startServer({
      corefile: `.:${PORT} {
  bind 127.0.0.1
  hosts hosts example.org 10.0.0.0/8 {
    10.9.9.9 inline.example.org
    ttl 60
    reload 100ms
    fallthrough sub.example.org
  }
  whoami
}
`,
      files: { hosts: '10.0.0.1 web.example.org\nfd00::1 web.example.org\n10.0.0.5 *.wild.example.org\n' },
    });
  });
  after(() => srv?.stop());

  it('answers A and AAAA from the file and the inline lines, authoritatively, with the ttl', async () => {
    const a = await dig(PORT, 'web.example.org');
    assert.deepEqual(
      a.answer.map((r) => [r.name, r.ttl, r.type, r.data]),
      [['web.example.org.', 60, 'A', '10.0.0.1']],
    );
    assert.ok(a.flags.includes('aa'));
    assert.deepEqual(
      (await dig(PORT, 'web.example.org', 'AAAA')).answer.map((r) => r.data),
      ['fd00::1'],
    );
    assert.deepEqual(
      (await dig(PORT, 'inline.example.org')).answer.map((r) => r.data),
      ['10.9.9.9'],
    );
    assert.deepEqual(
      (await dig(PORT, 'x.wild.example.org')).answer.map((r) => r.data),
      ['10.0.0.5'],
    );
  });

  it('answers PTR for v4 and v6 addresses', async () => {
    assert.deepEqual(
      (await dig(PORT, '1.0.0.10.in-addr.arpa', 'PTR')).answer.map((r) => r.data),
      ['web.example.org.'],
    );
    assert.deepEqual(
      (await dig(PORT, '9.9.9.10.in-addr.arpa', 'PTR')).answer.map((r) => r.data),
      ['inline.example.org.'],
    );
    const ptr6 = await dig(PORT, `1.${'0.'.repeat(29)}d.f.ip6.arpa`, 'PTR');
    assert.deepEqual(
      ptr6.answer.map((r) => r.data),
      ['web.example.org.'],
    );
  });

  it('gives NODATA for another type of a known name, SERVFAIL for an unknown one', async () => {
    const mx = await dig(PORT, 'web.example.org', 'MX');
    assert.equal(mx.status, 'NOERROR');
    assert.deepEqual(mx.answer, []);
    assert.equal((await dig(PORT, 'nope.example.org')).status, 'SERVFAIL');
    assert.equal((await dig(PORT, 'a.b.wild.example.org')).status, 'SERVFAIL');
  });

  it('falls through in the fallthrough zones and outside its own zones', async () => {
    const sub = await dig(PORT, 'nope.sub.example.org');
    assert.equal(sub.status, 'NOERROR');
    assert.deepEqual(sub.additional.find((r) => r.type === 'A')?.data, '127.0.0.1', 'whoami answered');
    assert.equal((await dig(PORT, 'other.test')).additional[0]?.data, '127.0.0.1');
  });

  it('reloads the file when it changes', async () => {
    writeFileSync(join(srv.dir, 'hosts'), '10.0.0.2 web.example.org\n10.0.0.3 new.example.org\n');
    await srv.waitFor(/reloaded \S+hosts: \d+ entries/);
    assert.deepEqual(
      (await dig(PORT, 'web.example.org')).answer.map((r) => r.data),
      ['10.0.0.2'],
    );
    assert.deepEqual(
      (await dig(PORT, 'new.example.org')).answer.map((r) => r.data),
      ['10.0.0.3'],
    );
    assert.deepEqual((await dig(PORT, 'web.example.org', 'AAAA')).answer, []);
    assert.deepEqual(
      (await dig(PORT, 'inline.example.org')).answer.map((r) => r.data),
      ['10.9.9.9'],
      'inline entries stay',
    );
  });
});
