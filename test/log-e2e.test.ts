// The log plugin in the real server process (dist/, built by `npm test`):
// `dig` (+norec) a query, read the line the process prints on stdout.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dig } from './helpers/dig.js';
import { freePort } from './helpers/ports.js';
import { startServer } from './helpers/server.js';

const corefile = (port: number, log: string) => `.:${port} {\n  bind 127.0.0.1\n  ${log}\n  cluster cluster.local\n}\n`;

describe('log: end to end', () => {
  it('prints CoreDNS-style query lines, including the SERVFAIL the server writes', async () => {
    const port = await freePort();
    const s = await startServer({ corefile: corefile(port, 'log') });
    try {
      const nx = await dig(port, 'nope.svc.cluster.local', 'A');
      assert.equal(nx.status, 'NXDOMAIN');
      const id = /id: (\d+)/.exec(nx.raw)![1];
      const line = await s.waitFor(/\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN nope\.svc\.cluster\.local\. .*\n/);
      assert.match(
        line,
        new RegExp(
          `^\\[INFO\\] 127\\.0\\.0\\.1:\\d+ - ${id} "A IN nope\\.svc\\.cluster\\.local\\. udp \\d+ false 1232" NXDOMAIN qr,aa \\d+ \\d+(\\.\\d+)?s\\n$`,
        ),
      );

      const sf = await dig(port, 'example.org', 'A', ['+tcp']);
      assert.equal(sf.status, 'SERVFAIL');
      await s.waitFor(/\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN example\.org\. tcp \d+ false 65535" SERVFAIL qr \d+ \d+(\.\d+)?s\n/);
    } finally {
      await s.stop();
    }
  });

  it('writes JSON lines with -log.json and honours NAMES and class', async () => {
    const port = await freePort();
    const s = await startServer({
      corefile: corefile(port, 'log example.org {\n    class error\n  }'),
      args: ['-log.json'],
      ready: /"msg":"podswarm-dns-\d|podswarm-dns-\d/,
    });
    try {
      assert.equal((await dig(port, 'nope.svc.cluster.local', 'A')).status, 'NXDOMAIN');
      assert.equal((await dig(port, 'www.example.org', 'A')).status, 'SERVFAIL');
      const line = await s.waitFor(/\{[^\n]*www\.example\.org[^\n]*\}\n/);
      const o = JSON.parse(line) as { level: number; msg: string };
      assert.equal(o.level, 30);
      assert.match(o.msg, /^127\.0\.0\.1:\d+ - \d+ "A IN www\.example\.org\. udp \d+ false 1232" SERVFAIL qr \d+ /);
      assert.doesNotMatch(s.output(), /nope\.svc\.cluster\.local/);
    } finally {
      await s.stop();
    }
  });
});
