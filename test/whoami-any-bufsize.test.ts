// whoami, any and bufsize in the real server.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dig } from './helpers/dig.js';
import { freePorts } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

const [WHOAMI, CLIENT_PORT, BUFSIZE_DEFAULT, BUFSIZE_512, NO_BUFSIZE, BUFSIZE_4096] = await freePorts(6);
/** 100 A records: about 1.7 KB on the wire. */
const BIG_HOSTS = Array.from({ length: 100 }, (_, i) => `    10.1.0.${i + 1} big.example.org`).join('\n');

describe('whoami and any: end to end', () => {
  let srv: RunningServer;
  before(async () => {
    srv = await startServer({ corefile: `.:${WHOAMI} {\n  bind 127.0.0.1\n  any\n  whoami\n}\n` });
  });
  after(() => srv?.stop());

  for (const proto of ['udp', 'tcp'] as const) {
    it(`whoami over ${proto}: the client address and port in the additional section, under the name as asked`, async () => {
      const extra = ['-b', `127.0.0.1#${CLIENT_PORT}`, ...(proto === 'tcp' ? ['+tcp'] : [])];
      const r = await dig(WHOAMI, 'Who.Example.org', 'A', extra);
      assert.equal(r.status, 'NOERROR');
      assert.ok(r.flags.includes('aa'));
      assert.deepEqual(r.answer, []);
      assert.deepEqual(
        r.additional.map((x) => [x.name, x.ttl, x.type, x.data]),
        [
          ['Who.Example.org.', 0, 'A', '127.0.0.1'],
          [`_${proto}.Who.Example.org.`, 0, 'SRV', `0 0 ${CLIENT_PORT} .`],
        ],
      );
    });
  }

  it('whoami over udp: the source address as sent, octets of one, two and three digits, one after another', async () => {
    // Each in turn, so the server's reuse of the previous datagram's address text is tried as well.
    for (const from of ['127.0.10.100', '127.100.0.9', '127.255.99.10', '127.255.99.10', '127.1.2.3', '127.10.200.0']) {
      const r = await dig(WHOAMI, 'whoami.example.org', 'A', ['-b', from]);
      assert.deepEqual(
        r.additional.filter((x) => x.type === 'A').map((x) => x.data),
        [from],
      );
    }
  });

  it('any: one HINFO for ANY (RFC 8482), other types pass on', async () => {
    const r = await dig(WHOAMI, 'example.org', 'ANY');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(
      r.answer.map((x) => [x.name, x.ttl, x.type, x.data]),
      [['example.org.', 8482, 'HINFO', '"RFC8482" ""']],
    );
    assert.equal((await dig(WHOAMI, 'example.org', 'A')).additional[0]?.data, '127.0.0.1');
  });
});

describe('bufsize: end to end', () => {
  let srv: RunningServer;
  before(async () => {
    const block = (port: number, directive: string) => `example.org:${port} {\n  bind 127.0.0.1\n  ${directive}\n  hosts {\n${BIG_HOSTS}\n  }\n}\n`;
    srv = await startServer({
      corefile: block(BUFSIZE_DEFAULT, 'bufsize') + block(BUFSIZE_512, 'bufsize 512') + block(NO_BUFSIZE, '') + block(BUFSIZE_4096, 'bufsize 4096'),
    });
  });
  after(() => srv?.stop());

  // +ignore: look at the truncated UDP reply instead of retrying over TCP.
  const big = (port: number, bufsize = 4096) => dig(port, 'big.example.org', 'A', [`+bufsize=${bufsize}`, '+ignore']);
  const size = (raw: string): number => Number(/MSG SIZE {2}rcvd: (\d+)/.exec(raw)?.[1]);

  it("without bufsize the server's own 1232 caps a client offering 4096, and OPT says 1232", async () => {
    const r = await big(NO_BUFSIZE);
    assert.ok(r.flags.includes('tc'), `flags: ${r.flags.join(' ')}`);
    assert.ok(size(r.raw) <= 1232 && r.answer.length < 100);
    assert.match(r.raw, /; EDNS: version: 0, flags:; udp: 1232/);
  });

  it("bufsize 4096 raises the cap: the client's 4096 fits every record, and OPT says 4096", async () => {
    const r = await big(BUFSIZE_4096);
    assert.ok(!r.flags.includes('tc'));
    assert.equal(r.answer.length, 100);
    assert.match(r.raw, /; EDNS: version: 0, flags:; udp: 4096/);
  });

  it('the default 1232 truncates the same answer', async () => {
    const r = await big(BUFSIZE_DEFAULT);
    assert.ok(r.flags.includes('tc'), `flags: ${r.flags.join(' ')}`);
    assert.ok(size(r.raw) <= 1232 && r.answer.length < 100);
  });

  it('bufsize 512 truncates at 512', async () => {
    const r = await big(BUFSIZE_512);
    assert.ok(r.flags.includes('tc'), `flags: ${r.flags.join(' ')}`);
    assert.ok(size(r.raw) <= 512 && r.answer.length < 30);
  });

  it('a client asking for less than the cap keeps its own size', async () => {
    const r = await big(BUFSIZE_DEFAULT, 600);
    assert.ok(r.flags.includes('tc'));
    assert.ok(size(r.raw) <= 600);
  });
});
