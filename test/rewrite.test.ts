// rewrite in the real server: name rules (exact, suffix, regex, with answer
// auto) change what the chain resolves while the client sees its own
// question and owner names; ttl rules clamp TTLs; errors come back with the
// client's question too; type rewrites are cached under the rewritten type.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dig, type DigResult } from './helpers/dig.js';
import { dnsmasq, stopAllDnsmasq, type Dnsmasq } from './helpers/dnsmasq.js';
import { sample } from './helpers/metrics.js';
import { freePort, freePorts } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

const PORT = await freePort();

/** The question line dig prints, e.g. ";alias.example.org.  IN  A". */
function question(r: DigResult): string {
  const m = /^;; QUESTION SECTION:\n;(\S+)\s+IN\s+(\S+)/m.exec(r.raw);
  return m ? `${m[1]} ${m[2]}` : '';
}

const rows = (r: DigResult): string[][] => r.answer.map((x) => [x.name, String(x.ttl), x.type, x.data]);
/** As rows, without the TTL (a cache hit a second later counts it down). */
const records = (r: DigResult): string[][] => r.answer.map((x) => [x.name, x.type, x.data]);

describe('rewrite: end to end', () => {
  let srv: RunningServer;
  before(async () => {
    srv = await startServer({
      corefile: `.:${PORT} {
  bind 127.0.0.1
  rewrite continue ttl exact short.example.org 5
  rewrite continue ttl prefix api -120
  rewrite name exact alias.example.org web.example.org
  rewrite name suffix .corp.test .example.org answer auto
  rewrite stop {
    name regex (.*)-v2\\.example\\.org {1}.example.org
    answer auto
  }
  rewrite type TXT A
  hosts {
    10.0.0.1 web.example.org
    10.0.0.2 api.example.org
    10.0.0.3 short.example.org
  }
}
`,
    });
  });
  after(() => srv?.stop());

  it('exact: resolves the target, answers under the name asked', async () => {
    const r = await dig(PORT, 'alias.example.org');
    assert.equal(question(r), 'alias.example.org. A');
    assert.deepEqual(rows(r), [['alias.example.org.', '3600', 'A', '10.0.0.1']]);
  });

  it('keeps the letter case the client used', async () => {
    const r = await dig(PORT, 'Alias.Example.ORG');
    assert.equal(question(r), 'Alias.Example.ORG. A');
    assert.deepEqual(rows(r), [['Alias.Example.ORG.', '3600', 'A', '10.0.0.1']]);
  });

  it('suffix with answer auto', async () => {
    const r = await dig(PORT, 'api.corp.test');
    assert.equal(question(r), 'api.corp.test. A');
    assert.deepEqual(rows(r), [['api.corp.test.', '120', 'A', '10.0.0.2']]);
  });

  it('regex with answer auto (block form)', async () => {
    const r = await dig(PORT, 'web-v2.example.org');
    assert.equal(question(r), 'web-v2.example.org. A');
    assert.deepEqual(rows(r), [['web-v2.example.org.', '3600', 'A', '10.0.0.1']]);
  });

  it('ttl: a fixed value and a range cap', async () => {
    assert.deepEqual(rows(await dig(PORT, 'short.example.org')), [['short.example.org.', '5', 'A', '10.0.0.3']]);
    assert.deepEqual(rows(await dig(PORT, 'api.example.org')), [['api.example.org.', '120', 'A', '10.0.0.2']]);
    assert.deepEqual(rows(await dig(PORT, 'web.example.org')), [['web.example.org.', '3600', 'A', '10.0.0.1']], 'no rule: unchanged');
  });

  it('type: the rewritten type is resolved, the question keeps the client type', async () => {
    const r = await dig(PORT, 'web.example.org', 'TXT');
    assert.equal(question(r), 'web.example.org. TXT');
    assert.deepEqual(rows(r), [['web.example.org.', '3600', 'A', '10.0.0.1']]);
  });

  it('an error from the rewritten name carries the client question', async () => {
    const r = await dig(PORT, 'nope.corp.test');
    assert.equal(r.status, 'SERVFAIL');
    assert.equal(question(r), 'nope.corp.test. A');
  });
});

describe('rewrite type with cache: end to end', () => {
  let DNS: number;
  let METRICS: number;
  let UPSTREAM: number;
  let srv: RunningServer | undefined;
  let upstream: Dnsmasq | undefined;
  before(async () => {
    [DNS, METRICS, UPSTREAM] = await freePorts(3);
    // HINFO "x86" "linux" for info.example.net (dnsmasq serves it as raw RDATA).
    upstream = await dnsmasq(UPSTREAM, ['up.example.net,10.2.0.1'], ['--dns-rr=info.example.net,13,03783836056c696e7578']);
    srv = await startServer({
      corefile: `.:${DNS} {
  bind 127.0.0.1
  prometheus 127.0.0.1:${METRICS}
  rewrite type AAAA A
  rewrite type ANY HINFO
  cache
  hosts {
    10.0.0.1 web.example.org
    fallthrough
  }
  forward example.net 127.0.0.1:${UPSTREAM}
}
`,
    });
  });
  after(async () => {
    await srv?.stop();
    await upstream?.stop();
    stopAllDnsmasq();
  });

  /** Cache misses, hits and drops, and queries sent upstream, since `before` (when given). */
  const counts = async (before?: Record<string, number>): Promise<Record<string, number>> => {
    const text = await (await fetch(`http://127.0.0.1:${METRICS}/metrics`)).text();
    const cache = { server: `dns://:${DNS}`, zones: '.', view: '' };
    const now: Record<string, number> = {
      misses: sample(text, 'coredns_cache_misses_total', cache) ?? 0,
      hits: sample(text, 'coredns_cache_hits_total', { ...cache, type: 'success' }) ?? 0,
      drops: sample(text, 'coredns_cache_drops_total', cache) ?? 0,
      upstream: sample(text, 'coredns_forward_requests_total', { to: `127.0.0.1:${UPSTREAM}` }) ?? 0,
    };
    return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (before?.[k] ?? 0)]));
  };

  it('a plugin’s answer to the rewritten type is cached under it; the client keeps its question', async () => {
    const start = await counts();
    for (let i = 0; i < 2; i++) {
      const r = await dig(DNS, 'Web.Example.org', 'AAAA');
      assert.equal(question(r), 'Web.Example.org. AAAA');
      assert.deepEqual(records(r), [['web.example.org.', 'A', '10.0.0.1']]);
    }
    assert.deepEqual(await counts(start), { misses: 1, hits: 1, drops: 0, upstream: 0 });
    // The key is the question the cache sees (as CoreDNS's): a direct A query hits the same entry.
    const direct = await dig(DNS, 'web.example.org', 'A');
    assert.equal(question(direct), 'web.example.org. A');
    assert.deepEqual(records(direct), [['web.example.org.', 'A', '10.0.0.1']]);
    assert.deepEqual(await counts(start), { misses: 1, hits: 2, drops: 0, upstream: 0 });
  });

  it('a forwarded answer to the rewritten type is cached: the upstream is asked once', async () => {
    const start = await counts();
    for (let i = 0; i < 2; i++) {
      const r = await dig(DNS, 'up.example.net', 'AAAA');
      assert.equal(question(r), 'up.example.net. AAAA');
      assert.deepEqual(records(r), [['up.example.net.', 'A', '10.2.0.1']]);
    }
    for (let i = 0; i < 2; i++) {
      const r = await dig(DNS, 'info.example.net', 'ANY');
      assert.equal(question(r), 'info.example.net. ANY');
      assert.deepEqual(records(r), [['info.example.net.', 'HINFO', '"x86" "linux"']]);
    }
    assert.deepEqual(await counts(start), { misses: 2, hits: 2, drops: 0, upstream: 2 });
  });
});
