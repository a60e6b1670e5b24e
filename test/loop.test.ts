// loop: the probe counter, and in real processes a server forwarding to
// itself and two servers forwarding to each other both halt with
// CoreDNS's "Loop ... detected" message.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { Rcode } from '../src/dns/constants.js';
import { parseRequest, type Peer } from '../src/dns/request.js';
import { LoopHandler, type LoopState } from '../plugins/loop/handler.js';
import { probeName } from '../plugins/loop/probe.js';
import { freePort, freePorts } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

const PEER: Peer = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 1053 };
const LOOP =
  /Loop \(127\.0\.0\.1:\d+ -> 127\.0\.0\.1:(\d+)\) detected for zone "\.", see https:\/\/coredns\.io\/plugins\/loop#troubleshooting\. Query: "HINFO \d+\.\d+\."/;

describe('loop: probe counting', () => {
  const hinfo = (name: string) => parseRequest(dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'HINFO', name }] }), PEER)!;
  const next = { name: 'next', serveDNS: () => Rcode.SERVFAIL };

  it('probe names are two random numeric labels under the zone', () => {
    assert.match(probeName('.'), /^\d+\.\d+\.$/);
    assert.match(probeName('example.org.'), /^\d+\.\d+\.example\.org\.$/);
    assert.notEqual(probeName('.'), probeName('.'));
  });

  it('is fatal on the third sighting of the probe, and not once switched off', () => {
    const state: LoopState = { zone: '.', qname: '1.2.', address: ':1053', seen: 0, off: false };
    const fatal: string[] = [];
    const h = new LoopHandler(state, (m) => fatal.push(m), next);
    const w = { write: () => {}, written: false };
    void h.serveDNS(hinfo('1.2.'), w);
    void h.serveDNS(hinfo('other.'), w);
    void h.serveDNS(hinfo('1.2.'), w);
    assert.deepEqual(fatal, []);
    void h.serveDNS(hinfo('1.2.'), w);
    assert.equal(fatal.length, 1);
    assert.match(fatal[0]!, /^Loop \(127\.0\.0\.1:40000 -> :1053\) detected for zone "\."/);
    state.off = true;
    void h.serveDNS(hinfo('1.2.'), w);
    assert.equal(fatal.length, 1);
  });
});

describe('loop: end to end', () => {
  const servers: RunningServer[] = [];
  after(() => Promise.all(servers.map((s) => s.stop())));

  // The loop may be found before the banner is printed: start on either.
  const start = (corefile: string) => startServer({ corefile, ready: /podswarm-dns-\d|Loop \(/ });

  it('a server forwarding to itself exits with the loop message', { timeout: 40_000 }, async () => {
    const port = await freePort();
    const srv = await start(`.:${port} {\n  bind 127.0.0.1\n  loop\n  forward . 127.0.0.1:${port}\n}\n`);
    servers.push(srv);
    await srv.waitFor(LOOP, 35_000);
    assert.equal(await srv.stop(), 1);
    assert.equal(LOOP.exec(srv.output())![1], String(port));
  });

  it('two servers forwarding to each other: the loop is found and the process exits', { timeout: 40_000 }, async () => {
    const [portA, portB] = await freePorts(2);
    const a = await start(`.:${portA} {\n  bind 127.0.0.1\n  loop\n  forward . 127.0.0.1:${portB}\n}\n`);
    const b = await start(`.:${portB} {\n  bind 127.0.0.1\n  loop\n  forward . 127.0.0.1:${portA}\n}\n`);
    servers.push(a, b);
    // Whichever probe goes round first halts its server; the other loses its upstream and may keep running.
    const first = await Promise.any([a.waitFor(LOOP, 35_000).then(() => a), b.waitFor(LOOP, 35_000).then(() => b)]);
    assert.equal(await first.stop(), 1);
  });
});
