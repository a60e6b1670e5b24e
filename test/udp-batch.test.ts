// The batch listener (src/server/udp-batch.ts) in-process, on a stand-in for
// the native addon: what it copies and what it does not. A query is read in
// its receive slot, so whatever answers after the batch (a reply that waits,
// a cache refresh) must see the query's own bytes although the slot then
// holds another datagram; a reply built in a send slot is sent from there,
// and a slot taken but not written is never sent; each datagram has its own
// source, though the listener reuses the text of a repeated one.
// test/udp-io.test.ts runs the real addon end to end.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import * as packet from 'dns-packet';
import { App } from '../src/app.js';
import type { Handler, ResponseWriter, Result } from '../src/chain/plugin.js';
import { MessageBuilder } from '../src/dns/builder.js';
import { Rcode, Type } from '../src/dns/constants.js';
import type { Request } from '../src/dns/request.js';
import { createLogger } from '../src/log.js';
import { Dispatcher } from '../src/server/dispatch.js';
import { listenUdpBatch } from '../src/server/udp-batch.js';
import { CacheHandler } from '../plugins/cache/handler.js';
import { parseCache } from '../plugins/cache/setup.js';
import { CacheStore } from '../plugins/cache/store.js';
import { CLIENT, CLIENT_PORT, StandInAddon } from './helpers/addon-stand-in.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function newApp(): App {
  return new App({ corefile: 'Corefile', quiet: true, nodeName: 'n1' }, createLogger({ json: true, out: new Writable({ write: (_c, _e, cb) => cb() }) }));
}

const query = (name: string, id: number, edns = false): Buffer =>
  packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: 'A', class: 'IN' }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as packet.Answer] : [],
  });

/** One A record for the name asked, built from the request (its ID and question bytes, as every reply is). */
const answer = (req: Request): Buffer =>
  new MessageBuilder(req, Rcode.NOERROR, { aa: true })
    .answer({ name: req.qname, ttl: 60, data: { type: Type.A, address: Buffer.from([10, 0, 0, 1]) } })
    .finish();

/** The listener on a stand-in addon, serving `chain` for every zone. */
function listen(app: App, chain: Handler): StandInAddon {
  const addon = new StandInAddon();
  listenUdpBatch(addon, '127.0.0.1', 53, new Dispatcher([{ zones: ['.'], chain, server: 'dns://:53', recursion: false }], app.log), false);
  return addon;
}

const question = (msg: Buffer): { id: number; name: string } => {
  const p = packet.decode(msg);
  return { id: p.id!, name: p.questions![0]!.name };
};

describe('udp-batch: queries read in place', () => {
  it("a reply that comes after its batch has its own query's ID and question, though the slot holds the next datagram", async () => {
    const waiting: Array<() => void> = [];
    const later: Handler = {
      name: 'later',
      serveDNS: (req: Request, w: ResponseWriter): Result =>
        new Promise((resolve) =>
          waiting.push(() => {
            w.write(answer(req));
            resolve(Rcode.NOERROR);
          }),
        ),
    };
    const addon = listen(newApp(), later);
    addon.fill([query('first.test', 1, true), query('second.test', 2)]);
    assert.equal(addon.onBatch(2), 0);
    // The next batch overwrites both slots before either query is answered.
    addon.fill([query('third.example', 3), query('fourth.example', 4, true)]);
    assert.equal(addon.onBatch(2), 0);
    for (const answerNow of waiting) answerNow();
    await tick();
    assert.deepEqual(
      addon.late.map((r) => ({ ...question(r.msg), to: `${r.address}:${r.port}` })),
      [
        { id: 1, name: 'first.test', to: `${CLIENT}:${CLIENT_PORT}` },
        { id: 2, name: 'second.test', to: `${CLIENT}:${CLIENT_PORT}` },
        { id: 3, name: 'third.example', to: `${CLIENT}:${CLIENT_PORT}` },
        { id: 4, name: 'fourth.example', to: `${CLIENT}:${CLIENT_PORT}` },
      ],
    );
  });

  it("a cache refresh that runs after the hit asks the hit's own question, though the slot holds the next datagram", async () => {
    const asked: string[] = [];
    const next: Handler = {
      name: 'next',
      serveDNS(req, w) {
        // What a forward would send upstream: the question bytes of the request.
        asked.push(packet.decode(req.wire.subarray(0, req.questionEnd)).questions![0]!.name);
        w.write(answer(req));
        return Rcode.NOERROR;
      },
    };
    const app = newApp();
    const { opts } = parseCache({ name: { text: 'cache', file: 'Corefile', line: 1 }, args: [], block: null }, ['.']);
    // Every hit asks for a refresh: popular after one hit, always near the end of its TTL.
    const cache = new CacheHandler(
      { ...opts, prefetch: { amount: 1, durationMs: 60_000, percentage: 100 } },
      new CacheStore({ success: 10, denial: 10 }),
      next,
      app,
    );
    const addon = listen(app, cache);
    addon.fill([query('hot.test', 1)]);
    assert.equal(addon.onBatch(1), 1);
    await tick();
    asked.length = 0;
    addon.fill([query('hot.test', 2)]);
    assert.equal(addon.onBatch(1), 1, 'a hit, answered within its batch');
    addon.fill([query('other.example', 3)]);
    addon.onBatch(1);
    await tick();
    await tick();
    assert.deepEqual(asked, ['other.example', 'hot.test']);
  });
});

describe('udp-batch: sources', () => {
  it('gives each datagram its own source address and port, whether or not it repeats the one before', () => {
    const peers: string[] = [];
    const who: Handler = {
      name: 'who',
      serveDNS(req, w) {
        peers.push(`${req.peer.remoteAddress} ${req.peer.remotePort}`);
        w.write(answer(req));
        return Rcode.NOERROR;
      },
    };
    const addon = listen(newApp(), who);
    const sources: Array<[string, number]> = [
      ['127.0.0.1', 1001],
      ['127.0.0.2', 1002],
      ['127.0.0.2', 1003],
      ['::1', 1004],
      ['127.0.0.1', 1005],
      ['127.0.0.10', 1006],
    ];
    sources.forEach(([address, port], i) => addon.from(i, address, port));
    addon.fill(sources.map((_, i) => query('who.test', i)));
    assert.equal(addon.onBatch(sources.length), sources.length);
    addon.fill([query('who.test', 9)]);
    addon.onBatch(1);
    assert.deepEqual(peers, [...sources.map(([a, p]) => `${a} ${p}`), '127.0.0.1 1001']);
  });
});

describe('udp-batch: replies built in their send slot', () => {
  it('sends a reply from the slot it was built in, and never a slot taken but not written', () => {
    const built: Handler = {
      name: 'built',
      serveDNS(req, w) {
        const reply = answer(req);
        if (req.qname === 'unused.test.') {
          // Takes a slot, then writes a buffer of its own: the slot stays unsent.
          assert.ok(w.sendBuffer?.(reply.length));
          w.write(reply);
          return Rcode.NOERROR;
        }
        const out = w.sendBuffer?.(reply.length);
        assert.ok(out, "a UDP reply within the client's size has room in the send buffer");
        assert.equal(out.length, reply.length);
        assert.equal(w.sendBuffer?.(reply.length), undefined, 'one slot per reply');
        out.set(reply);
        w.write(out);
        return Rcode.NOERROR;
      },
    };
    const addon = listen(newApp(), built);
    addon.fill([query('a.test', 1), query('unused.test', 2), query('b.test', 3)]);
    const sent = addon.sent(addon.onBatch(3));
    assert.deepEqual(
      sent.map((s) => ({ index: s.index, question: s.msg && question(s.msg) })),
      [
        { index: 0, question: { id: 1, name: 'a.test' } },
        { index: 1, question: null },
        { index: 1, question: { id: 2, name: 'unused.test' } },
        { index: 2, question: { id: 3, name: 'b.test' } },
      ],
    );
    assert.deepEqual(addon.late, []);
  });

  it('offers no slot for a reply larger than the client takes, nor after the batch', async () => {
    const offers: Array<number | undefined> = [];
    const big: Handler = {
      name: 'big',
      async serveDNS(req, w) {
        // 600 bytes: over the 512 a client without EDNS takes.
        offers.push(w.sendBuffer?.(600)?.length);
        await tick();
        offers.push(w.sendBuffer?.(100)?.length);
        w.write(answer(req));
        return Rcode.NOERROR;
      },
    };
    const addon = listen(newApp(), big);
    addon.fill([query('big.test', 1)]);
    assert.equal(addon.onBatch(1), 0);
    await tick();
    await tick();
    assert.deepEqual(offers, [undefined, undefined]);
    assert.deepEqual(
      addon.late.map((r) => question(r.msg)),
      [{ id: 1, name: 'big.test' }],
    );
  });
});
