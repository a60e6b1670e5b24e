// In-process checks of the operational plugins' parts that the end-to-end
// tests cannot reach: exceptions in the chain, consolidation details, the
// ready latch, the metrics exposition and the shared HTTP listeners.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { Registry } from 'prom-client';
import type { Handler, ResponseWriter } from '../src/chain/plugin.js';
import { MessageBuilder } from '../src/dns/builder.js';
import { Rcode } from '../src/dns/constants.js';
import { parseRequest, type Request } from '../src/dns/request.js';
import { createLogger } from '../src/log.js';
import { panicCount } from '../src/metrics/panics.js';
import { parseHttpAddress, servePath } from '../src/server/http.js';
import { App } from '../src/app.js';
import { Consolidator } from '../plugins/errors/consolidate.js';
import { ErrorsHandler } from '../plugins/errors/handler.js';
import { Readiness } from '../plugins/ready/readiness.js';
import { CounterVec, HistogramVec } from '../plugins/prometheus/vec.js';
import { configFiles } from '../plugins/reload/watcher.js';
import { parseCorefile } from '../src/corefile/parse.js';
import { freePort } from './helpers/ports.js';

function query(name: string): Request {
  const wire = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name, class: 'IN' }] });
  const req = parseRequest(wire, { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 5000, localAddress: '127.0.0.1', localPort: 53 });
  assert.ok(req);
  return req;
}

function writer(): ResponseWriter & { sent: Buffer[] } {
  const sent: Buffer[] = [];
  return {
    sent,
    get written() {
      return sent.length > 0;
    },
    write: (m) => void sent.push(m),
  };
}

function capture(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const out = { write: (s: string) => lines.push(...s.split('\n').filter((l) => l !== '')) } as unknown as NodeJS.WritableStream;
  return { log: createLogger({ json: false, level: 'debug', out }).child({ plugin: 'errors' }), lines };
}

const thrower = (how: 'sync' | 'async'): Handler => ({
  name: 'boom',
  serveDNS() {
    if (how === 'sync') throw new Error('kaboom');
    return Promise.reject(new Error('async kaboom'));
  },
});

describe('errors handler', () => {
  it('turns an exception into SERVFAIL, logs it and counts a panic', async () => {
    const { log, lines } = capture();
    const before = panicCount();
    const h = new ErrorsHandler(new Consolidator([], log), false, thrower('sync'));
    assert.equal(h.serveDNS(query('a.example.'), writer()), Rcode.SERVFAIL);
    const async = new ErrorsHandler(new Consolidator([], log), true, thrower('async'));
    assert.equal(await async.serveDNS(query('b.example.'), writer()), Rcode.SERVFAIL);
    assert.equal(panicCount() - before, 2);
    assert.equal(lines[0], '[ERROR] plugin/errors: 2 a.example. A: kaboom');
    // stacktrace: the stack follows the message.
    assert.match(lines[1]!, /^\[ERROR\] plugin\/errors: 2 b\.example\. A: Error: async kaboom/);
    assert.match(lines.slice(1).join('\n'), /at /);
  });

  it('leaves answered queries and other rcodes alone', () => {
    const { log, lines } = capture();
    const answers: Handler = {
      name: 'ok',
      serveDNS(req, w) {
        w.write(new MessageBuilder(req, Rcode.SERVFAIL).finish());
        return Rcode.SERVFAIL;
      },
    };
    const refused: Handler = { name: 'no', serveDNS: () => Rcode.REFUSED };
    assert.equal(new ErrorsHandler(new Consolidator([], log), false, answers).serveDNS(query('x.'), writer()), Rcode.SERVFAIL);
    assert.equal(new ErrorsHandler(new Consolidator([], log), false, refused).serveDNS(query('x.'), writer()), Rcode.REFUSED);
    assert.deepEqual(lines, []);
  });
});

describe('errors consolidation', () => {
  it('takes the first matching pattern, prints summaries on stop, and logs the rest at error', () => {
    const { log, lines } = capture();
    const c = new Consolidator(
      [
        { periodMs: 60_000, periodText: '1m', regexp: /timeout$/, level: 'info', showFirst: false },
        { periodMs: 60_000, periodText: '1m', regexp: /time/, level: 'debug', showFirst: true },
      ],
      log,
    );
    c.report('read timeout', 'L1');
    c.report('write timeout', 'L2');
    c.report('time flies', 'L3');
    c.report('other', 'L4');
    assert.deepEqual(lines, ['[DEBUG] plugin/errors: L3', '[ERROR] plugin/errors: L4']);
    c.stop();
    // A single show_first error was printed as itself: no summary for it.
    assert.deepEqual(lines.slice(2), ["[INFO] plugin/errors: 2 errors like 'timeout$' occurred in last 1m"]);
    c.report('read timeout', 'L5');
    assert.equal(lines.at(-1), '[ERROR] plugin/errors: L5');
  });
});

describe('ready', () => {
  it('until-ready latches a plugin once ready; continuously asks every time', () => {
    let ok = true;
    const reporters = new Map([
      ['forward', () => ok],
      ['cluster', () => false],
    ]);
    const latched = new Readiness(reporters, false);
    const live = new Readiness(reporters, true);
    assert.deepEqual(latched.notReady(), ['cluster']);
    assert.deepEqual(live.notReady(), ['cluster']);
    ok = false;
    assert.deepEqual(latched.notReady(), ['cluster']);
    assert.deepEqual(live.notReady(), ['cluster', 'forward']);
  });
});

describe('prometheus series', () => {
  it('formats bound counters and histograms like prom-client', async () => {
    const r = new Registry();
    const c = new CounterVec('t_total', 'help c', ['a', 'b']).registerIn(r);
    const h = new HistogramVec('t_seconds', 'help h', ['a'], [0.1, 1]).registerIn(r);
    const s = c.with('x', 'y');
    assert.equal(c.with('x', 'y'), s);
    s.inc();
    s.inc();
    const hs = h.with('x');
    for (const v of [0.05, 0.1, 0.5, 3]) hs.observe(v);
    const text = await r.metrics();
    assert.match(text, /# TYPE t_total counter\nt_total\{a="x",b="y"\} 2/);
    assert.match(
      text,
      /t_seconds_bucket\{a="x",le="0.1"\} 2\nt_seconds_bucket\{a="x",le="1"\} 3\nt_seconds_bucket\{a="x",le="\+Inf"\} 4\nt_seconds_sum\{a="x"\} 3.65\nt_seconds_count\{a="x"\} 4/,
    );
    r.resetMetrics();
    s.inc();
    assert.match(await r.metrics(), /t_total\{a="x",b="y"\} 1\n/);
  });
});

describe('shared HTTP listeners', () => {
  it('parses [HOST]:PORT', () => {
    const tok = (text: string) => ({ text, file: 'Corefile', line: 3 });
    assert.deepEqual(parseHttpAddress(tok(':8080'), 'health'), { host: '', port: 8080 });
    assert.deepEqual(parseHttpAddress(tok('localhost:9153'), 'prometheus'), { host: 'localhost', port: 9153 });
    assert.deepEqual(parseHttpAddress(tok('[::1]:8181'), 'ready'), { host: '::1', port: 8181 });
    assert.throws(() => parseHttpAddress(tok('8080'), 'health'), /Corefile:3: health: '8080' is not an address/);
    assert.throws(() => parseHttpAddress(tok(':70000'), 'health'), /Corefile:3/);
  });

  it('hands a path over between registrations and closes the server with the last one', async () => {
    // Two processes' worth of state: the second one's server cannot bind the first one's port.
    const newApp = () => new App({ corefile: 'Corefile', quiet: true, nodeName: 't' }, capture().log);
    const app = newApp();
    const other = newApp();
    const addr = { host: '127.0.0.1', port: await freePort() };
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${addr.port}${path}`);
      return `${res.status} ${await res.text()}`;
    };
    const releaseOld = await servePath(app, addr, '/health', (_q, res) => res.end('old'));
    const releaseNew = await servePath(app, addr, '/health', (_q, res) => res.end('new'));
    const releaseReady = await servePath(app, addr, '/ready', (_q, res) => res.end('ready'));
    assert.equal(await get('/health'), '200 new');
    await releaseOld();
    assert.equal(await get('/health'), '200 new');
    await releaseNew();
    assert.equal(await get('/health'), '404 404 page not found\n');
    assert.equal(await get('/ready'), '200 ready');
    await releaseReady();
    await assert.rejects(get('/ready'));
    // Bound again on demand; a port in use is an error that keeps nothing registered.
    const again = await servePath(app, addr, '/x', (_q, res) => res.end('x'));
    await assert.rejects(
      servePath(other, addr, '/y', () => {}),
      new RegExp(`listen on 127\\.0\\.0\\.1:${addr.port}: .*EADDRINUSE`),
    );
    await again();
  });
});

describe('reload: watched files', () => {
  it('are the Corefile and the files the block imports', () => {
    const files: Record<string, string> = { '/etc/dns/extra.conf': 'ttl 5\n', '/etc/dns/other.conf': 'ttl 6\n' };
    const [block] = parseCorefile('. {\n    cluster cluster.local {\n        import extra.conf\n    }\n}\n', '/etc/dns/Corefile', {
      readFile: (f: string) => {
        const text = files[f];
        if (text === undefined) throw new Error(`no ${f}`);
        return text;
      },
    });
    assert.ok(block);
    assert.deepEqual(configFiles('/etc/dns/Corefile', block), ['/etc/dns/Corefile', '/etc/dns/extra.conf']);
  });
});
