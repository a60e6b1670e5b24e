// loadbalance: the answer order on the wire (CNAMEs stay first, the
// decode/re-encode fallback) and, in the real server, a first answer that
// moves between queries, also when the reply comes from the cache.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { MessageBuilder } from '../src/dns/builder.js';
import { Rcode, Type } from '../src/dns/constants.js';
import { parseRequest, type Peer } from '../src/dns/request.js';
import { shuffleAnswers } from '../plugins/loadbalance/shuffle.js';
import { dig } from './helpers/dig.js';
import { freePort, freePorts } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

const PEER: Peer = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 5000, localAddress: '127.0.0.1', localPort: 53 };
const ADDRS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'];
const HOSTS = ADDRS.map((a) => `    ${a} web.example.org`).join('\n');

function request(name: string) {
  const req = parseRequest(dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name }] }), PEER);
  assert.ok(req);
  return req;
}

const a = (name: string, ip: string) => ({ name, ttl: 30, data: { type: Type.A, address: Buffer.from(ip.split('.').map(Number)) } }) as const;

/** The answers of `msg` as "TYPE data" strings. */
function answers(msg: Buffer): string[] {
  return (dnsPacket.decode(msg).answers ?? []).map((r) => `${r.type} ${'data' in r ? String(r.data) : ''}`);
}

describe('loadbalance: wire order', () => {
  it('keeps the CNAME first and every address, and varies the address order', () => {
    const req = request('www.example.org');
    const b = new MessageBuilder(req, Rcode.NOERROR).answer({ name: 'www.example.org.', ttl: 30, data: { type: Type.CNAME, target: 'web.example.org.' } });
    for (const ip of ADDRS) b.answer(a('web.example.org.', ip));
    const msg = b.finish();
    const orders = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const out = answers(shuffleAnswers(msg));
      assert.equal(out[0], 'CNAME web.example.org');
      assert.deepEqual(
        out.slice(1).sort(),
        ADDRS.map((ip) => `A ${ip}`),
      );
      orders.add(out.join());
    }
    assert.ok(orders.size > 1, 'the order never changed');
  });

  it('re-encodes a reply whose owner names are not compressed', () => {
    const msg = dnsPacket.encode({
      type: 'response',
      id: 7,
      questions: [{ type: 'A', name: 'web.example.org' }],
      answers: ADDRS.map((data) => ({ type: 'A' as const, name: 'web.example.org', ttl: 30, data })),
    });
    const firsts = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const out = shuffleAnswers(msg);
      assert.equal(dnsPacket.decode(out).id, 7);
      const got = answers(out);
      assert.deepEqual(
        [...got].sort(),
        ADDRS.map((ip) => `A ${ip}`),
      );
      firsts.add(got[0]!);
    }
    assert.equal(firsts.size, ADDRS.length);
  });

  it('re-encodes when a name elsewhere points at an answer that would move', () => {
    // web.example.org A / AAAA / A, owners compressed to the question (offset 12); the additional TXT
    // record's owner points at the third answer's owner (offset 77): a pointer to a pointer.
    const owner = [0xc0, 12];
    const rr = (type: number, rdata: number[], name = owner) => [...name, 0, type, 0, 1, 0, 0, 0, 30, 0, rdata.length, ...rdata];
    const msg = Buffer.from([
      0,
      7,
      0x81,
      0x80,
      0,
      1,
      0,
      3,
      0,
      0,
      0,
      1,
      3,
      ...Buffer.from('web'),
      7,
      ...Buffer.from('example'),
      3,
      ...Buffer.from('org'),
      0,
      0,
      1,
      0,
      1,
      ...rr(Type.A, [10, 0, 0, 1]),
      ...rr(Type.AAAA, [0xfd, 0, ...new Array<number>(13).fill(0), 1]),
      ...rr(Type.A, [10, 0, 0, 2]),
      ...rr(Type.TXT, [2, 0x68, 0x69], [0xc0, 77]),
    ]);
    assert.equal(dnsPacket.decode(msg).additionals?.[0]?.name, 'web.example.org', 'the fixture is what it says');
    const firsts = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const p = dnsPacket.decode(shuffleAnswers(msg));
      assert.equal(p.additionals?.[0]?.name, 'web.example.org');
      assert.deepEqual((p.answers ?? []).map((r) => `${r.type} ${'data' in r ? String(r.data) : ''}`).sort(), ['A 10.0.0.1', 'A 10.0.0.2', 'AAAA fd00::1']);
      firsts.add(`${p.answers![0]!.type} ${'data' in p.answers![0]! ? String(p.answers![0].data) : ''}`);
    }
    assert.ok(firsts.size > 1, 'the order never changed');
  });

  it('leaves error replies alone', () => {
    const req = request('web.example.org');
    const msg = new MessageBuilder(req, Rcode.NXDOMAIN).answer(a('web.example.org.', '10.0.0.1')).answer(a('web.example.org.', '10.0.0.2')).finish();
    assert.equal(shuffleAnswers(msg), msg);
  });
});

describe('loadbalance: end to end', () => {
  const servers: RunningServer[] = [];
  after(() => Promise.all(servers.map((s) => s.stop())));

  /** Sends `n` queries and returns the first address of each reply (checking all four came back). */
  async function firstAnswers(port: number, n: number): Promise<string[]> {
    const firsts: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await dig(port, 'web.example.org');
      assert.deepEqual(r.answer.map((x) => x.data).sort(), ADDRS);
      firsts.push(r.answer[0]!.data);
    }
    return firsts;
  }

  it('changes the first answer between queries; every address comes first', async () => {
    const port = await freePort();
    const srv = await startServer({ corefile: `example.org:${port} {\n  bind 127.0.0.1\n  loadbalance round_robin\n  hosts {\n${HOSTS}\n  }\n}\n` });
    servers.push(srv);
    const firsts = await firstAnswers(port, 60);
    assert.deepEqual([...new Set(firsts)].sort(), ADDRS);
  });

  it('rotates replies served from the cache too', async () => {
    const [port, metricsPort] = await freePorts(2);
    const srv = await startServer({
      corefile: `example.org:${port} {\n  bind 127.0.0.1\n  prometheus 127.0.0.1:${metricsPort}\n  loadbalance\n  cache 300\n  hosts {\n${HOSTS}\n  }\n}\n`,
    });
    servers.push(srv);
    const firsts = await firstAnswers(port, 60);
    assert.deepEqual([...new Set(firsts)].sort(), ADDRS);
    // All but the first query were cache hits, so the rotation happened after the cache.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const hits = [...metrics.matchAll(/^coredns_cache_hits_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(hits, 59);
  });
});
