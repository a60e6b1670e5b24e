// coredns_dns_responses_total{plugin} against the real server: the label names
// the plugin that wrote the reply (cache on a hit, the plugin behind it on a
// miss, never a plugin that only passed the reply on), and is empty when the
// server wrote it because no plugin did. Loopback ports from helpers/ports.ts.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { composeChain } from '../src/chain/compose.js';
import type { Handler } from '../src/chain/plugin.js';
import { dig } from './helpers/dig.js';
import { dnsmasq, stopAllDnsmasq, type Dnsmasq } from './helpers/dnsmasq.js';
import { samples } from './helpers/metrics.js';
import { freePorts } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

const [DNS, METRICS, UPSTREAM] = await freePorts(3);

const REGISTRY = `services:
  - name: web
    endpoints:
      - { address: 10.1.0.1 }
      - { address: 10.1.0.2 }
`;

/** Every coredns_dns_responses_total series of the server, as "RCODE plugin" → count. */
async function responsesByWriter(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${METRICS}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const s of samples(text, 'coredns_dns_responses_total')) {
    assert.deepEqual([s.labels.server, s.labels.zone, s.labels.view], [`dns://:${DNS}`, '.', '']);
    out[`${s.labels.rcode} ${s.labels.plugin}`] = s.value;
  }
  return out;
}

describe('prometheus: the plugin label of coredns_dns_responses_total', () => {
  let srv: RunningServer | undefined;
  let upstream: Dnsmasq | undefined;
  before(async () => {
    upstream = await dnsmasq(UPSTREAM, ['up.example.net,10.2.0.1']);
    // The plugins that pass replies on (errors, loadbalance, rewrite, cache) sit between
    // prometheus and the plugins that answer; none of them may take the credit.
    srv = await startServer({
      corefile: `.:${DNS} {
    bind 127.0.0.1
    prometheus 127.0.0.1:${METRICS}
    errors
    any
    loadbalance
    rewrite name exact alias.example.org web.example.org
    rewrite name exact gone.example.org nowhere.example.com
    acl {
        block type HINFO
    }
    cache
    hosts {
        10.0.0.1 web.example.org
        fallthrough
    }
    cluster cluster.local {
        registry {{dir}}/services.yaml
    }
    forward example.net 127.0.0.1:${UPSTREAM}
}
`,
      files: { 'services.yaml': REGISTRY },
    });
  });
  after(async () => {
    await srv?.stop();
    await upstream?.stop();
    stopAllDnsmasq();
  });

  it('names the writer of each reply, record by record', async () => {
    const answers = async (name: string, type = 'A'): Promise<string[]> => {
      const r = await dig(DNS, name, type);
      return [r.status, ...r.answer.map((a) => `${a.type} ${a.data}`).sort()];
    };
    // A miss is written by the plugin that answers; the same question again by cache.
    for (let i = 0; i < 2; i++) assert.deepEqual(await answers('web.default.cluster.local'), ['NOERROR', 'A 10.1.0.1', 'A 10.1.0.2']);
    assert.deepEqual(await answers('nope.default.cluster.local'), ['NXDOMAIN']);
    assert.deepEqual(await answers('web.example.org'), ['NOERROR', 'A 10.0.0.1']);
    // Rewritten to web.example.org, which the cache now holds.
    assert.deepEqual(await answers('alias.example.org'), ['NOERROR', 'A 10.0.0.1']);
    for (let i = 0; i < 2; i++) assert.deepEqual(await answers('up.example.net'), ['NOERROR', 'A 10.2.0.1']);
    assert.deepEqual(await answers('example.org', 'ANY'), ['NOERROR', 'HINFO "RFC8482" ""']);
    assert.deepEqual(await answers('web.example.org', 'HINFO'), ['REFUSED']);
    // Nobody answers nowhere.example.com: rewrite writes the SERVFAIL itself, to restore the question.
    assert.deepEqual(await answers('gone.example.org'), ['SERVFAIL']);
    // Nobody answers at all: the server writes the SERVFAIL.
    assert.deepEqual(await answers('other.example.com'), ['SERVFAIL']);

    assert.deepEqual(await responsesByWriter(), {
      'NOERROR cluster': 1,
      'NXDOMAIN cluster': 1,
      'NOERROR cache': 3,
      'NOERROR hosts': 1,
      'NOERROR forward': 1,
      'NOERROR any': 1,
      'REFUSED acl': 1,
      'SERVFAIL rewrite': 1,
      'SERVFAIL ': 1,
    });
  });
});

describe('chain composition', () => {
  it('without a handler that tracks the writer, every handler gets the next plugin’s own handler (nothing added per query)', () => {
    const made = new Map<string, Handler>();
    const nexts = new Map<string, Handler>();
    const link = (name: string) => ({
      factory: (next: Handler): Handler => {
        nexts.set(name, next);
        const h: Handler = { name, serveDNS: (req, w) => next.serveDNS(req, w) };
        made.set(name, h);
        return h;
      },
      tracksWriter: false,
    });
    const chain = composeChain([link('errors'), link('cache'), link('cluster')]);
    assert.equal(chain, made.get('errors'));
    assert.equal(nexts.get('errors'), made.get('cache'));
    assert.equal(nexts.get('cache'), made.get('cluster'));
  });
});
