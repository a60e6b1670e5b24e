// The forward plugin against real upstreams on loopback (dnsmasq, and tiny
// scripted servers where a test needs exact misbehaviour), driven through the
// real config builder and dispatcher; plus one end-to-end run of the CLI.

import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import * as packet from 'dns-packet';
import { App } from '../src/app.js';
import { buildConfig } from '../src/config/build.js';
import { parseCorefile } from '../src/corefile/parse.js';
import { CorefileError } from '../src/corefile/types.js';
import { Dispatcher } from '../src/server/dispatch.js';
import { createLogger } from '../src/log.js';
import type { Peer } from '../src/dns/request.js';
import { parseAddress } from '../plugins/forward/address.js';
import { parseForward } from '../plugins/forward/config.js';
import { resolvConfNameservers } from '../plugins/forward/resolvconf.js';
import { UdpChannel } from '../plugins/forward/udp.js';
import { dig } from './helpers/dig.js';
import { dnsmasq, stopAllDnsmasq } from './helpers/dnsmasq.js';
import { freePort, freePorts } from './helpers/ports.js';
import { query } from './helpers/raw.js';
import { startServer } from './helpers/server.js';
import { NO_LIFECYCLE } from './helpers/no-lifecycle.js';

const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- upstreams ------------------------------------------------------------

after(stopAllDnsmasq);

type Script = (q: packet.Packet, raw: Buffer, proto: 'udp' | 'tcp') => Buffer[];

/** A scripted server on UDP and TCP: `script` returns the datagrams/frames to send back (none: swallow). */
async function scripted(port: number, script: Script, tcp = true) {
  const stats = { udp: 0, tcp: 0, connections: 0 };
  const udp: Socket = createSocket('udp4');
  udp.on('message', (m, rinfo) => {
    stats.udp++;
    for (const r of script(packet.decode(m), m, 'udp')) udp.send(r, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => udp.bind(port, HOST, r));
  let server: Server | undefined;
  if (tcp) {
    server = createServer((sock) => {
      stats.connections++;
      let buf = Buffer.alloc(0);
      sock.on('error', () => {});
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + m.length);
          stats.tcp++;
          for (const r of script(packet.decode(m), m, 'tcp')) sock.write(Buffer.concat([u16(r.length), r]));
        }
      });
    });
    await new Promise<void>((r) => server!.listen(port, HOST, r));
  }
  return {
    stats,
    stop: async () => {
      udp.close();
      if (server) {
        await new Promise((r) => server.close(r));
      }
    },
  };
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** An answer to `q` with A records for `ips`. */
function answer(q: packet.Packet, ips: string[], extra: Partial<packet.Packet> = {}): Buffer {
  const qn = q.questions![0]!;
  return packet.encode({
    type: 'response',
    id: q.id,
    flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
    questions: q.questions,
    answers: ips.map((data) => ({ type: 'A' as const, name: qn.name, ttl: 60, class: 'IN' as const, data })),
    ...extra,
  });
}

// ---- the forwarder under test ----------------------------------------------

async function forwarder(body: string, upstreams?: string[]) {
  const logs: string[] = [];
  const out = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const app = new App({ corefile: 'Corefile', quiet: true, nodeName: 'test', upstreams }, createLogger({ json: false, out }));
  const config = buildConfig(parseCorefile(`.:18299 {\n${body}\n}\n`, 'Corefile'), app, NO_LIFECYCLE);
  for (const fn of config.startup) await fn();
  const dispatcher = new Dispatcher([...config.listeners.values()][0]!.routes, app.log);
  const ask = (wire: Buffer, proto: 'udp' | 'tcp' = 'udp'): Promise<Buffer> => {
    const peer: Peer = { proto, remoteAddress: HOST, remotePort: 40000, localAddress: HOST, localPort: 18299 };
    return new Promise((resolve) => dispatcher.handle(wire, peer, { send: (msg) => resolve(msg!) }));
  };
  return {
    app,
    logs,
    ask,
    async a(name: string, opts: { id?: number; edns?: number; proto?: 'udp' | 'tcp' } = {}) {
      return packet.decode(await ask(query(name, 'A', opts), opts.proto));
    },
    metrics: () => app.metrics.metrics(),
    ready: () => app.readiness.get('forward')!(),
    stop: async () => {
      for (const fn of config.shutdown) await fn();
    },
  };
}

const ips = (p: packet.Packet) => (p.answers ?? []).map((a) => (a as { data: string }).data);
/** dns-packet decodes the rcode but its types leave it out. */
const rcode = (p: packet.Packet) => (p as { rcode?: string }).rcode;

/** Polls `cond` every 50ms, at most `ms`. */
async function until(cond: () => boolean, ms: number): Promise<void> {
  for (let waited = 0; !cond(); waited += 50) {
    if (waited >= ms) assert.fail(`condition not met within ${ms}ms`);
    await sleep(50);
  }
}

// ---- tests -----------------------------------------------------------------

describe('forward: configuration', () => {
  const directive = (text: string) => parseCorefile(`. {\n${text}\n}\n`, 'Corefile')[0]!.directives[0]!;

  it('parses IP[:port], [v6]:port and dns:// addresses', () => {
    assert.equal(parseAddress('127.0.0.1')?.label, '127.0.0.1:53');
    assert.equal(parseAddress('127.0.0.1:5300')?.label, '127.0.0.1:5300');
    assert.equal(parseAddress('dns://10.1.2.3:54')?.label, '10.1.2.3:54');
    assert.deepEqual(parseAddress('[::1]:5353'), { host: '::1', port: 5353, family: 6, label: '[::1]:5353' });
    assert.equal(parseAddress('::1')?.label, '[::1]:53');
    for (const bad of ['example.org', '1.2.3.4:0', '1.2.3.4:70000', '1.2.3', '']) assert.equal(parseAddress(bad), undefined, bad);
  });

  it('reads nameserver lines from a resolv.conf-style file', () => {
    assert.deepEqual(resolvConfNameservers('# c\nsearch x.test\nnameserver 10.0.0.1\n  nameserver ::1 # v6\noptions ndots:5\n;nameserver 9.9.9.9\n'), [
      '10.0.0.1',
      '::1',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'fwd-'));
    const file = join(dir, 'resolv.conf');
    writeFileSync(file, 'nameserver 127.0.0.63\nnameserver 127.0.0.64\n');
    const cfg = parseForward(directive(`forward . ${file} 127.0.0.1:5300`));
    assert.deepEqual(
      cfg.to.map((a) => a.label),
      ['127.0.0.63:53', '127.0.0.64:53', '127.0.0.1:5300'],
    );
    writeFileSync(file, '# empty\n');
    assert.throws(() => parseForward(directive(`forward . ${file}`)), /^CorefileError: Corefile:2: forward: no nameserver lines in /);
  });

  it('has CoreDNS defaults and reads every option', () => {
    const d = parseForward(directive('forward example.org 127.0.0.1'));
    assert.deepEqual(d.forward, { from: ['example.org.'], except: [], forceTcp: false, preferUdp: false, maxConcurrent: 0, readTimeoutMs: 2000 });
    assert.deepEqual(d.upstream, { expireMs: 10000, forceTcp: false, maxFails: 2, health: { intervalMs: 500, recursion: true, domain: '.' } });
    assert.equal(d.policy, 'random');
    const c = parseForward(
      directive(`forward 10.0.0.0/8 127.0.0.1 {
  except a.10.in-addr.arpa B.example.
  force_tcp
  expire 30s
  max_fails 0
  health_check 2s no_rec domain Example.ORG
  policy sequential
  max_concurrent 100
  read_timeout 300ms
}`),
    );
    assert.deepEqual(c.forward, {
      from: ['10.in-addr.arpa.'],
      except: ['a.10.in-addr.arpa.', 'b.example.'],
      forceTcp: true,
      preferUdp: false,
      maxConcurrent: 100,
      readTimeoutMs: 300,
    });
    assert.deepEqual(c.upstream, { expireMs: 30000, forceTcp: true, maxFails: 0, health: { intervalMs: 2000, recursion: false, domain: 'example.org.' } });
    assert.equal(c.policy, 'sequential');
  });

  it('lets --upstream-dns / UPSTREAM_DNS replace the TO list of `forward .` only', () => {
    const over = ['127.0.0.9:5300', '[::1]:5301'];
    assert.deepEqual(
      parseForward(directive('forward . 10.9.9.9'), over).to.map((a) => a.label),
      ['127.0.0.9:5300', '[::1]:5301'],
    );
    assert.deepEqual(
      parseForward(directive('forward corp.example 10.9.9.9'), over).to.map((a) => a.label),
      ['10.9.9.9:53'],
    );
  });

  it('reports setup errors with FILE:LINE', () => {
    const cases: Array<[string, RegExp]> = [
      ['forward .', /^Corefile:3: forward: expected at least 2 arguments, got 1$/],
      ['forward . example.org', /^Corefile:3: forward: not an IP address\[:port\] or a file: 'example.org'$/],
      ['forward . 1.2.3.4:99999', /^Corefile:3: forward: not an IP address/],
      [`forward . ${Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 1}`).join(' ')}`, /^Corefile:3: forward: more than 15 upstreams \(16\)$/],
      ['forward . 127.0.0.1 {\n  bogus 1\n}', /^Corefile:4: forward: unknown property 'bogus'$/],
      ['forward . 127.0.0.1 {\n  policy fastest\n}', /^Corefile:4: forward: unknown policy 'fastest' \(expected random, round_robin, sequential\)$/],
      ['forward . 127.0.0.1 {\n  max_fails -1\n}', /^Corefile:4: forward: max_fails: expected an integer/],
      ['forward . 127.0.0.1 {\n  expire soon\n}', /^Corefile:4: forward: expire: invalid duration 'soon'/],
      ['forward . 127.0.0.1 {\n  health_check 0s\n}', /^Corefile:4: forward: health_check: must be greater than 0$/],
      ['forward . 127.0.0.1 {\n  health_check 1s domain\n}', /^Corefile:4: forward: health_check: unknown option 'domain'/],
      ['forward . 127.0.0.1 {\n  force_tcp\n  prefer_udp\n}', /^Corefile:3: forward: force_tcp and prefer_udp cannot both be set$/],
      ['forward . 127.0.0.1 {\n  force_tcp yes\n}', /^Corefile:4: forward: force_tcp: expected no arguments, got 1$/],
    ];
    for (const [text, re] of cases) {
      const app = new App(
        { corefile: 'Corefile', quiet: true, nodeName: 't' },
        createLogger({ json: false, out: new Writable({ write: (_c, _e, cb) => cb() }) }),
      );
      assert.throws(
        () => buildConfig(parseCorefile(`# test\n.:18299 {\n${text}\n}\n`, 'Corefile'), app, NO_LIFECYCLE),
        (e: unknown) => e instanceof CorefileError && re.test(e.message),
        text,
      );
    }
  });
});

describe('forward: against real upstreams', () => {
  it('forwards to dnsmasq and echoes the client ID and question case, over UDP and TCP', async () => {
    const port = await freePort();
    const up = await dnsmasq(port, ['foo.test,10.0.0.5']);
    const f = await forwarder(`forward . 127.0.0.1:${port}`);
    try {
      const wire = await f.ask(query('FoO.TeSt', 'A', { id: 31337 }));
      const r = packet.decode(wire);
      assert.equal(r.id, 31337);
      assert.equal(rcode(r), 'NOERROR');
      assert.deepEqual(r.questions, [{ name: 'FoO.TeSt', type: 'A', class: 'IN' }]);
      assert.equal(
        wire
          .subarray(12, 12 + 10)
          .toString('latin1')
          .slice(1, 4),
        'FoO',
      );
      assert.deepEqual(ips(r), ['10.0.0.5']);
      assert.equal(r.answers![0]!.name.toLowerCase(), 'foo.test');
      assert.equal(
        r.additionals?.some((a) => a.type === 'OPT'),
        false,
        'no OPT for a client without EDNS',
      );

      const e = await f.a('foo.test', { id: 7, edns: 4096 });
      assert.deepEqual(ips(e), ['10.0.0.5']);
      assert.equal(e.additionals?.filter((a) => a.type === 'OPT').length, 1);

      const t = await f.a('Foo.Test', { id: 8, proto: 'tcp' });
      assert.equal(t.id, 8);
      assert.deepEqual(ips(t), ['10.0.0.5']);

      const refused = await f.a('unknown.test', { id: 9 });
      assert.equal(rcode(refused), 'REFUSED', 'upstream rcodes pass through');

      const m = await f.metrics();
      assert.match(m, new RegExp(`coredns_forward_requests_total\\{to="127\\.0\\.0\\.1:${port}"\\} 4`));
      assert.match(m, new RegExp(`coredns_forward_responses_total\\{to="127\\.0\\.0\\.1:${port}",rcode="NOERROR"\\} 3`));
      assert.match(m, new RegExp(`coredns_forward_responses_total\\{to="127\\.0\\.0\\.1:${port}",rcode="REFUSED"\\} 1`));
      assert.match(m, new RegExp(`coredns_proxy_request_duration_seconds_count\\{server="dns://:18299",to="127\\.0\\.0\\.1:${port}",rcode="NOERROR"\\} 3`));
      assert.equal(f.ready(), true);
    } finally {
      await f.stop();
      await up.stop();
    }
  });

  it('sends a fresh random ID and the question with RD, CD and EDNS DO', async () => {
    const seen: packet.Packet[] = [];
    const port = await freePort();
    const up = await scripted(port, (q) => {
      seen.push(q);
      return [answer(q, ['10.1.1.1'])];
    });
    const f = await forwarder(`forward . 127.0.0.1:${port}`);
    try {
      const wire = packet.encode({
        type: 'query',
        id: 4242,
        flags: packet.RECURSION_DESIRED | packet.CHECKING_DISABLED,
        questions: [{ name: 'X.Example', type: 'A', class: 'IN' }],
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: packet.DNSSEC_OK } as packet.Answer],
      });
      for (let i = 0; i < 3; i++) assert.equal(packet.decode(await f.ask(wire)).id, 4242);
      assert.equal(seen.length, 3);
      assert.equal(new Set(seen.map((q) => q.id)).size, 3, 'each upstream query gets its own ID');
      const q = seen[0]!;
      assert.deepEqual(q.questions, [{ name: 'x.example', type: 'A', class: 'IN' }]);
      assert.equal(q.flags! & packet.RECURSION_DESIRED, packet.RECURSION_DESIRED);
      assert.equal(q.flags! & packet.CHECKING_DISABLED, packet.CHECKING_DISABLED);
      const opt = q.additionals!.find((a) => a.type === 'OPT') as unknown as { udpPayloadSize: number; flags: number };
      assert.equal(opt.udpPayloadSize, 1232);
      assert.equal(opt.flags & packet.DNSSEC_OK, packet.DNSSEC_OK);
    } finally {
      await f.stop();
      await up.stop();
    }
  });

  it('accepts only a reply whose ID and question match (spoofed ones are dropped)', async () => {
    const port = await freePort();
    const up = await scripted(port, (q, raw) => {
      const wrongId = answer({ ...q, id: (q.id! + 1) & 0xffff }, ['6.6.6.6']);
      const wrongName = answer({ ...q, questions: [{ name: 'evil.test', type: 'A', class: 'IN' }] }, ['6.6.6.7']);
      const wrongType = answer({ ...q, questions: [{ ...q.questions![0]!, type: 'AAAA' }] }, ['6.6.6.8']);
      const notResponse = Buffer.from(raw);
      return [wrongId, wrongName, wrongType, notResponse, answer(q, ['10.2.2.2'])];
    });
    const f = await forwarder(`forward . 127.0.0.1:${port}`);
    try {
      const r = await f.a('good.test', { id: 77 });
      assert.deepEqual(ips(r), ['10.2.2.2']);
    } finally {
      await f.stop();
      await up.stop();
    }
  });

  it('answers SERVFAIL when an upstream reply too big for the client cannot be parsed for truncation', async () => {
    const port = await freePort();
    const up = await scripted(port, (q) => {
      const r = answer(
        q,
        Array.from({ length: 40 }, (_, i) => `10.4.0.${i + 1}`),
      );
      r.writeUInt16BE(41, 6); // claims a record it does not carry
      return [r];
    });
    const f = await forwarder(`forward . 127.0.0.1:${port}`);
    try {
      const reply = await Promise.race([f.ask(query('broken.test', 'A', { id: 99 })), sleep(3000).then(() => null)]);
      assert.ok(reply, 'the query is settled with a reply');
      const r = packet.decode(reply);
      assert.equal(r.id, 99);
      assert.equal(rcode(r), 'SERVFAIL');
      assert.ok(reply.length <= 512);
    } finally {
      await f.stop();
      await up.stop();
    }
  });

  it('a closed UDP channel (its config reloaded away) refuses further queries instead of opening a new socket', async () => {
    const port = await freePort();
    const up = await scripted(port, (q) => [answer(q, ['10.5.0.1'])], false);
    const ch = new UdpChannel(parseAddress(`127.0.0.1:${port}`)!);
    try {
      const q = query('late.test', 'A', { id: 0 });
      assert.deepEqual(ips(packet.decode(await ch.exchange(q, 1000))), ['10.5.0.1']);
      ch.close();
      await assert.rejects(ch.exchange(q, 1000), /closed/);
    } finally {
      ch.close();
      await up.stop();
    }
  });

  it('retries over TCP when the UDP answer is truncated, and pools TCP connections until they expire', async () => {
    const big = Array.from({ length: 40 }, (_, i) => `10.3.0.${i + 1}`);
    const port = await freePort();
    const up = await scripted(port, (q, _raw, proto) =>
      proto === 'udp' ? [answer(q, [], { flags: packet.TRUNCATED_RESPONSE | packet.RECURSION_AVAILABLE })] : [answer(q, big)],
    );
    const f = await forwarder(`forward . 127.0.0.1:${port} {\n  expire 300ms\n}`);
    try {
      const r = await f.a('big.test', { edns: 4096 });
      assert.equal(r.flag_tc, false);
      assert.deepEqual(ips(r), big);
      assert.deepEqual(up.stats, { udp: 1, tcp: 1, connections: 1 });

      // A plain UDP client gets the full answer truncated to 512 by the server.
      const small = await f.a('big.test');
      assert.equal(small.flag_tc, true);
      assert.equal(up.stats.connections, 1, 'the pooled connection was reused');

      const tcp = await f.a('big.test', { proto: 'tcp' });
      assert.deepEqual(ips(tcp), big);
      assert.equal(up.stats.connections, 1);
      await sleep(450);
      await f.a('big.test', { proto: 'tcp' });
      assert.equal(up.stats.connections, 2, 'an expired connection is not reused');
    } finally {
      await f.stop();
      await up.stop();
    }
  });

  it('uses dnsmasq over TCP for a large answer (real truncation)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fwd-hosts-'));
    chmodSync(dir, 0o755); // dnsmasq reads it after dropping to nobody
    const many = Array.from({ length: 100 }, (_, i) => `10.4.0.${i + 1}`);
    writeFileSync(join(dir, 'hosts'), many.map((ip) => `${ip} many.test\n`).join(''));
    const port = await freePort();
    const up = await dnsmasq(port, [], [`--addn-hosts=${join(dir, 'hosts')}`]);
    const f = await forwarder(`forward . 127.0.0.1:${port}`);
    try {
      const r = await f.a('many.test', { edns: 4096, proto: 'tcp' });
      assert.equal(r.flag_tc, false);
      assert.deepEqual(ips(r).sort(), [...many].sort());
      // Over UDP the client gets at most our 1232 bytes, whatever it offered.
      const udp = await f.ask(query('many.test', 'A', { edns: 4096 }));
      assert.ok(packet.decode(udp).flag_tc && udp.length <= 1232, `${udp.length} bytes`);
    } finally {
      await f.stop();
      await up.stop();
    }
  });

  it('skips a dead upstream, marks it down, and probes it back up when it comes alive', async () => {
    const [deadPort, goodPort] = await freePorts(2);
    const dead = `127.0.0.1:${deadPort}`;
    const good = await dnsmasq(goodPort, ['foo.test,10.0.0.6']);
    const f = await forwarder(`forward . ${dead} 127.0.0.1:${goodPort} {\n  policy sequential\n  health_check 100ms\n  read_timeout 300ms\n}`);
    let revived: { stop(): Promise<void> } | undefined;
    try {
      const t0 = Date.now();
      assert.deepEqual(ips(await f.a('foo.test')), ['10.0.0.6']);
      assert.ok(Date.now() - t0 < 1000, 'a refused port fails fast');
      await until(() => /marked down/.test(f.logs.join('')), 2000);
      assert.match(await f.metrics(), new RegExp(`coredns_forward_healthcheck_failures_total\\{to="127\\.0\\.0\\.1:${deadPort}"\\} [2-9]`));
      assert.equal(f.ready(), true, 'one upstream is still up');

      const requests = new RegExp(`coredns_forward_requests_total\\{to="127\\.0\\.0\\.1:${deadPort}"\\} (\\d+)`);
      const before = (await f.metrics()).match(requests)![1];
      assert.deepEqual(ips(await f.a('foo.test')), ['10.0.0.6']);
      const afterDown = (await f.metrics()).match(requests)![1];
      assert.equal(afterDown, before, 'a down upstream is skipped');

      revived = await dnsmasq(deadPort, ['foo.test,10.0.0.5']);
      await until(() => f.logs.join('').includes(`${dead} is healthy again`), 3000);
      assert.deepEqual(ips(await f.a('foo.test')), ['10.0.0.5'], 'sequential uses the first upstream again');
    } finally {
      await f.stop();
      await revived?.stop();
      await good.stop();
    }
  });

  it('moves on after the read timeout when an upstream swallows queries', async () => {
    const [swallowPort, goodPort] = await freePorts(2);
    const swallow = await scripted(swallowPort, () => [], false);
    const good = await dnsmasq(goodPort, ['foo.test,10.0.0.8']);
    const f = await forwarder(`forward . 127.0.0.1:${swallowPort} 127.0.0.1:${goodPort} {\n  policy sequential\n  read_timeout 300ms\n}`);
    try {
      const t0 = Date.now();
      assert.deepEqual(ips(await f.a('foo.test')), ['10.0.0.8']);
      const took = Date.now() - t0;
      assert.ok(took >= 290 && took < 1500, `took ${took}ms`);
    } finally {
      await f.stop();
      await good.stop();
      await swallow.stop();
    }
  });

  it('answers SERVFAIL quickly when every upstream is dead, then tries one at random', async () => {
    const [deadA, deadB] = await freePorts(2);
    const f = await forwarder(`forward . 127.0.0.1:${deadA} 127.0.0.1:${deadB} {\n  health_check 50ms\n  read_timeout 300ms\n}`);
    try {
      const t0 = Date.now();
      assert.equal(rcode(await f.a('foo.test', { id: 5 })), 'SERVFAIL');
      assert.ok(Date.now() - t0 < 1000);
      await until(() => !f.ready(), 2000);
      const t1 = Date.now();
      const r = await f.a('foo.test', { id: 6 });
      assert.equal(rcode(r), 'SERVFAIL');
      assert.equal(r.id, 6);
      assert.ok(Date.now() - t1 < 1000);
      assert.match(await f.metrics(), /coredns_forward_healthcheck_broken_total 1/);
    } finally {
      await f.stop();
    }
  });

  it('all upstreams swallowing: SERVFAIL within the 5s bound', async () => {
    const port = await freePort();
    const a = await scripted(port, () => [], false);
    const f = await forwarder(`forward . 127.0.0.1:${port} {\n  read_timeout 400ms\n}`);
    try {
      const t0 = Date.now();
      assert.equal(rcode(await f.a('foo.test')), 'SERVFAIL');
      assert.ok(Date.now() - t0 < 1500);
    } finally {
      await f.stop();
      await a.stop();
    }
  });

  it('orders upstreams by policy: sequential, round_robin', async () => {
    const [portOne, portTwo] = await freePorts(2);
    const one = await dnsmasq(portOne, ['foo.test,10.0.0.1']);
    const two = await dnsmasq(portTwo, ['foo.test,10.0.0.2']);
    const both = `127.0.0.1:${portOne} 127.0.0.1:${portTwo}`;
    const seq = await forwarder(`forward . ${both} {\n  policy sequential\n}`);
    const rr = await forwarder(`forward . ${both} {\n  policy round_robin\n}`);
    const rnd = await forwarder(`forward . ${both}`);
    try {
      const s: string[] = [];
      const r: string[] = [];
      const x = new Set<string>();
      for (let i = 0; i < 4; i++) s.push(ips(await seq.a('foo.test'))[0]!);
      for (let i = 0; i < 4; i++) r.push(ips(await rr.a('foo.test'))[0]!);
      for (let i = 0; i < 40 && x.size < 2; i++) x.add(ips(await rnd.a('foo.test'))[0]!);
      assert.deepEqual(s, ['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.1']);
      assert.deepEqual(r, ['10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.2']);
      assert.equal(x.size, 2, 'random spreads over both');
    } finally {
      await Promise.all([seq.stop(), rr.stop(), rnd.stop()]);
      await one.stop();
      await two.stop();
    }
  });

  it('refuses queries over max_concurrent', async () => {
    const port = await freePort();
    const slow = await scripted(port, () => [], false);
    const f = await forwarder(`forward . 127.0.0.1:${port} {\n  max_concurrent 1\n  read_timeout 400ms\n}`);
    try {
      const first = f.a('slow.test', { id: 1 });
      const second = await f.a('slow.test', { id: 2 });
      assert.equal(rcode(second), 'REFUSED');
      assert.equal(second.id, 2);
      assert.equal(rcode(await first), 'SERVFAIL');
      assert.match(await f.metrics(), /coredns_forward_max_concurrent_rejects_total 1/);
    } finally {
      await f.stop();
      await slow.stop();
    }
  });

  it('honours except and tries several forward directives in listed order', async () => {
    const [portOne, portTwo] = await freePorts(2);
    const one = await scripted(portOne, (q) => [answer(q, ['10.5.0.1'])]);
    const two = await scripted(portTwo, (q) => [answer(q, ['10.5.0.2'])]);
    const f = await forwarder(`forward corp.test 127.0.0.1:${portOne} {\n  except skip.corp.test\n}\nforward . 127.0.0.1:${portTwo} {\n  except local.test\n}`);
    const g = await forwarder(`forward . 127.0.0.1:${portTwo}\nforward corp.test 127.0.0.1:${portOne}`);
    try {
      assert.deepEqual(ips(await f.a('a.corp.test')), ['10.5.0.1']);
      assert.deepEqual(ips(await f.a('corp.test')), ['10.5.0.1']);
      assert.deepEqual(ips(await f.a('x.skip.corp.test')), ['10.5.0.2'], 'excepted by the first, taken by the second');
      assert.deepEqual(ips(await f.a('example.org')), ['10.5.0.2']);
      const calls = one.stats.udp + two.stats.udp;
      assert.equal(rcode(await f.a('a.local.test')), 'SERVFAIL', 'excepted everywhere: end of chain');
      assert.equal(one.stats.udp + two.stats.udp, calls);
      assert.deepEqual(ips(await g.a('a.corp.test')), ['10.5.0.2'], 'listed order, not longest match');
    } finally {
      await f.stop();
      await g.stop();
      await one.stop();
      await two.stop();
    }
  });

  it('uses the upstream override (--upstream-dns / UPSTREAM_DNS) instead of the Corefile list', async () => {
    const [overridePort, corefilePort] = await freePorts(2);
    const up = await dnsmasq(overridePort, ['foo.test,10.0.0.17']);
    const f = await forwarder(`forward . 127.0.0.1:${corefilePort}`, [`127.0.0.1:${overridePort}`]);
    try {
      assert.deepEqual(ips(await f.a('foo.test')), ['10.0.0.17']);
    } finally {
      await f.stop();
      await up.stop();
    }
  });
});

describe('forward: end to end through the CLI', () => {
  it('forwards with dig, and --upstream-dns beats UPSTREAM_DNS beats the Corefile', async () => {
    const [corefilePort, envPort, cliPort, port] = await freePorts(4);
    const corefileUp = await dnsmasq(corefilePort, ['foo.test,10.9.0.1']);
    const envUp = await dnsmasq(envPort, ['foo.test,10.9.0.2']);
    const cliUp = await dnsmasq(cliPort, ['foo.test,10.9.0.3']);
    const corefile = `.:${port} {\n  bind 127.0.0.1\n  forward . 127.0.0.1:${corefilePort}\n}\n`;
    const runs: Array<[string, { args?: string[]; env?: Record<string, string> }]> = [
      ['10.9.0.1', {}],
      ['10.9.0.2', { env: { UPSTREAM_DNS: `127.0.0.1:${envPort}` } }],
      ['10.9.0.3', { env: { UPSTREAM_DNS: `127.0.0.1:${envPort}` }, args: [`--upstream-dns=127.0.0.1:${cliPort}`] }],
    ];
    try {
      for (const [want, opts] of runs) {
        const s = await startServer({ corefile, ...opts });
        try {
          const r = await dig(port, 'FOO.test', 'A', ['+rec']);
          assert.equal(r.status, 'NOERROR', r.raw);
          assert.deepEqual(
            r.answer.map((a) => a.data),
            [want],
          );
          assert.match(r.raw, /;FOO\.test\.\s+IN\s+A/, 'question case echoed');
          const tcp = await dig(port, 'foo.test', 'A', ['+tcp']);
          assert.deepEqual(
            tcp.answer.map((a) => a.data),
            [want],
          );
        } finally {
          await s.stop();
        }
      }
    } finally {
      await corefileUp.stop();
      await envUp.stop();
      await cliUp.stop();
    }
  });
});
