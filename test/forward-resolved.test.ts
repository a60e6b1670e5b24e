// forward on a systemd-resolved host: a resolv.conf naming only resolved's
// stub is replaced by resolved's upstreams file. Unit tests of the detection,
// then the real process in a network namespace of the test's own (so
// 127.0.0.53 and port 53 are ours) and a private mount namespace whose /run
// is a tmpfs holding the fixture /run/systemd/resolve/resolv.conf: the
// machine's own files are never read. Needs root.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCorefile } from '../src/corefile/parse.js';
import { CorefileError } from '../src/corefile/types.js';
import { parseAddress, type Address } from '../plugins/forward/address.js';
import { parseForward } from '../plugins/forward/config.js';
import { isResolvedStub, onlyResolvedStub, resolvedUpstreams } from '../plugins/forward/resolved.js';
import type { DigRecord } from './helpers/dig.js';
import { dnsmasqIn, stopAllDnsmasq } from './helpers/dnsmasq.js';
import { createNetns, type Netns } from './helpers/netns-one.js';
import { startServer, type RunningServer } from './helpers/server.js';

const addr = (s: string): Address => parseAddress(s)!;
const STUB_ONLY =
  '# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n';

describe('forward: systemd-resolved stub detection', () => {
  it('the stub is 127.0.0.53 or 127.0.0.54 on port 53, nothing else', () => {
    for (const s of ['127.0.0.53', '127.0.0.54', 'dns://127.0.0.53:53']) assert.equal(isResolvedStub(addr(s)), true, s);
    for (const s of ['127.0.0.1', '127.0.0.53:5353', '127.0.0.55', '::1', '10.0.0.53']) assert.equal(isResolvedStub(addr(s)), false, s);
  });

  it('a list is replaced only when it names the stub and nothing else', () => {
    assert.equal(onlyResolvedStub([addr('127.0.0.53')]), true);
    assert.equal(onlyResolvedStub([addr('127.0.0.53'), addr('127.0.0.54')]), true);
    assert.equal(onlyResolvedStub([addr('127.0.0.53'), addr('203.0.113.1')]), false);
    assert.equal(onlyResolvedStub([]), false);
  });

  describe("reading resolved's upstreams file", () => {
    const dir = mkdtempSync(join(tmpdir(), 'podswarm-resolved-'));
    const tok = parseCorefile('. {\n  forward . /etc/resolv.conf\n}\n', 'Corefile')[0]!.directives[0]!.args[1]!;
    const file = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };

    it('takes its nameservers, skipping lines that are not addresses and the stub itself', () => {
      const p = file(
        'ok.conf',
        '# This is /run/systemd/resolve/resolv.conf managed by man:systemd-resolved(8).\nnameserver 203.0.113.53\nnameserver not-an-ip\nnameserver 127.0.0.53\nnameserver 2001:db8::53\nsearch example.test\n',
      );
      assert.deepEqual(
        resolvedUpstreams(tok, p).map((a) => a.label),
        ['203.0.113.53:53', '[2001:db8::53]:53'],
      );
    });

    const refused = (path: string, reason: RegExp) => {
      assert.throws(
        () => resolvedUpstreams(tok, path),
        (e: unknown) => {
          assert.ok(e instanceof CorefileError);
          assert.equal(e.message.split(':').slice(0, 2).join(':'), 'Corefile:2');
          assert.match(e.reason, reason);
          return true;
        },
      );
    };

    it('refuses a missing file with FILE:LINE and the reason', () => {
      refused(
        join(dir, 'absent.conf'),
        /^forward: \/etc\/resolv\.conf names only systemd-resolved's stub, so its upstreams are read from .*absent\.conf, which cannot be read \(ENOENT; is systemd-resolved running\?\) \(forward to the stub itself with 'forward \. 127\.0\.0\.53'\)$/,
      );
    });

    it('refuses a file with no usable nameserver (resolved knows no upstream)', () => {
      refused(file('none.conf', '# No DNS servers known.\nsearch .\n'), /which has no usable nameserver \(systemd-resolved knows no upstream DNS server\)/);
      refused(file('stub.conf', 'nameserver 127.0.0.53\n'), /which has no usable nameserver/);
    });
  });

  it('a file with real servers, or the stub named as an address, is used as written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'podswarm-resolved-'));
    const mixed = join(dir, 'mixed.conf');
    writeFileSync(mixed, 'nameserver 127.0.0.53\nnameserver 203.0.113.1\n');
    const to = (text: string) => parseForward(parseCorefile(`. {\n  ${text}\n}\n`, 'Corefile')[0]!.directives[0]!).to.map((a) => a.label);
    assert.deepEqual(to(`forward . ${mixed}`), ['127.0.0.53:53', '203.0.113.1:53']);
    assert.deepEqual(to('forward . 127.0.0.53'), ['127.0.0.53:53']);
  });
});

describe('forward: systemd-resolved host, end to end', () => {
  let ns: Netns;
  const servers: RunningServer[] = [];
  before(async () => {
    ns = await createNetns(`psw-resolv-${process.pid}`);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    stopAllDnsmasq();
    await ns?.destroy();
  });

  // The server runs in the namespace, in a mount namespace of its own whose
  // /run is an empty tmpfs; `resolved` (when given) becomes
  // /run/systemd/resolve/resolv.conf there. Private propagation keeps the
  // mount from reaching the host.
  const start = (resolved: string | undefined, ready?: RegExp) => {
    const setup =
      'mount -t tmpfs -o mode=755 tmpfs /run && mkdir -p /run/systemd/resolve && { [ -z "$0" ] || cp "$0" /run/systemd/resolve/resolv.conf; } && exec "$@"';
    const dir = mkdtempSync(join(tmpdir(), 'podswarm-resolved-'));
    const fixture = resolved === undefined ? '' : join(dir, 'resolved.conf');
    if (resolved !== undefined) writeFileSync(fixture, resolved);
    return startServer({
      corefile: '.:53 {\n  bind 127.0.0.1\n  forward . {{dir}}/resolv.conf\n}\n',
      files: { 'resolv.conf': STUB_ONLY },
      prefix: ['nsenter', `--net=${ns.path}`, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', setup, fixture],
      ready,
    }).then((s) => {
      servers.push(s);
      return s;
    });
  };
  const a = (name: string, data: string): DigRecord => ({ name, ttl: 300, class: 'IN', type: 'A', data });
  const answers = async (name: string) => {
    const r = await ns.dig('127.0.0.1', name);
    assert.equal(r.status, 'NOERROR', r.raw);
    return [...r.answer].sort((x, y) => x.data.localeCompare(y.data));
  };

  it('forwards to the upstreams in /run/systemd/resolve/resolv.conf, not to the stub; a reload re-reads them', { timeout: 30_000 }, async () => {
    // A server on the stub address too, answering differently: an answer from it would mean the stub was used.
    await dnsmasqIn(ns.name, '127.0.0.53', ['www.example.test,10.53.0.53']);
    await dnsmasqIn(ns.name, '127.0.0.77', ['www.example.test,10.77.0.1', 'www.example.test,10.77.0.2']);
    await dnsmasqIn(ns.name, '127.0.0.78', ['www.example.test,10.78.0.1']);
    const srv = await start('# This is /run/systemd/resolve/resolv.conf managed by man:systemd-resolved(8).\nnameserver 127.0.0.77\nsearch .\n');
    assert.match(
      srv.output(),
      /\[INFO\] plugin\/forward: \S+\/resolv\.conf names only systemd-resolved's stub: forwarding to its upstreams from \/run\/systemd\/resolve\/resolv\.conf \(127\.0\.0\.77:53\)/,
    );
    assert.deepEqual(await answers('www.example.test'), [a('www.example.test.', '10.77.0.1'), a('www.example.test.', '10.77.0.2')]);

    // resolved switched upstream: the file changes, and a reload (SIGUSR1, as the reload plugin's) picks it up.
    writeFileSync(`/proc/${srv.proc.pid}/root/run/systemd/resolve/resolv.conf`, 'nameserver 127.0.0.78\n');
    const reloads = srv.output().split('reloaded configuration').length;
    srv.proc.kill('SIGUSR1');
    await srv.waitFor(new RegExp(`(reloaded configuration[^]*){${reloads}}`));
    assert.match(srv.output(), /forwarding to its upstreams from \/run\/systemd\/resolve\/resolv\.conf \(127\.0\.0\.78:53\)/);
    assert.deepEqual(await answers('www.example.test'), [a('www.example.test.', '10.78.0.1')]);
  });

  const refusal = (resolved: string | undefined, reason: RegExp) => async () => {
    const srv = await start(resolved, /Corefile:3: forward: |podswarm-dns-\d/);
    assert.equal(await srv.stop(), 1, srv.output());
    assert.match(srv.output(), reason);
  };

  it(
    "refuses to start when resolved's file is missing, with FILE:LINE and the reason",
    { timeout: 20_000 },
    refusal(
      undefined,
      /Corefile:3: forward: \S+\/resolv\.conf names only systemd-resolved's stub, so its upstreams are read from \/run\/systemd\/resolve\/resolv\.conf, which cannot be read \(ENOENT; is systemd-resolved running\?\)/,
    ),
  );

  it(
    'refuses to start when resolved knows no upstream server',
    { timeout: 20_000 },
    refusal(
      '# No DNS servers known.\nsearch .\n',
      /Corefile:3: forward: \S+\/resolv\.conf names only systemd-resolved's stub, so its upstreams are read from \/run\/systemd\/resolve\/resolv\.conf, which has no usable nameserver/,
    ),
  );
});
