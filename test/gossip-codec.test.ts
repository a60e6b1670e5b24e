// Stage 1: the memberlist codec layer against bytes captured from real serf
// agents (test/fixtures/memberlist/*.json, see extract-pcap.mjs and the notes).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { addCrc, crc32, stripCrc } from '../src/gossip/crc.js';
import { addLabelHeader, removeLabelHeader } from '../src/gossip/label.js';
import { lzwCompress, lzwDecompress } from '../src/gossip/lzw.js';
import {
  MessageType,
  decodeAck,
  decodeAlive,
  decodeCompound,
  decodeDead,
  decodeIndirectPing,
  decodePing,
  decodePushPull,
  decodeStreamUserMsg,
  encodeAck,
  encodeAlive,
  encodeDead,
  encodeIndirectPing,
  encodeNack,
  encodePing,
  encodePushPull,
  encodeStreamUserMsg,
  encodeSuspect,
  makeCompound,
  decodeSuspect,
  decodeNack,
} from '../src/gossip/messages.js';
import { MsgWriter, decode, decodeAt, encodeStruct } from '../src/gossip/msgpack.js';
import {
  compressPayload,
  decodePacket,
  decompressPayload,
  encodePacket,
  encodeStreamMessage,
  flattenMessage,
  parseStreamMessage,
  type WireSecurity,
} from '../src/gossip/net.js';
import { Keyring, decryptPayload, encryptPayload, encryptedLength } from '../src/gossip/security.js';
import { decodeSerfPushPull, encodeSerfPushPull } from '../src/gossip/serf.js';

interface Capture {
  note: string;
  key?: string;
  udp: { from: string; to: string; hex: string }[];
  tcp: { from: string; to: string; hex: string }[];
}
const load = (name: string): Capture => JSON.parse(readFileSync(new URL(`./fixtures/memberlist/${name}.json`, import.meta.url), 'utf8')) as Capture;
const plain = load('serf-plain');
const encrypted = load('serf-encrypted');
const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const noSec: WireSecurity = { keyring: null, encryptionVersion: 1, label: '', verifyIncoming: true, verifyOutgoing: true };
const encSec: WireSecurity = { ...noSec, keyring: Keyring.fromBase64(encrypted.key!) };

/** Re-encodes a decoded leaf message with our encoder. */
function reencode(type: number, body: Buffer): Buffer | null {
  switch (type) {
    case MessageType.ping:
      return encodePing(decodePing(body));
    case MessageType.indirectPing:
      return encodeIndirectPing(decodeIndirectPing(body));
    case MessageType.ackResp:
      return encodeAck(decodeAck(body));
    case MessageType.nackResp:
      return encodeNack(decodeNack(body));
    case MessageType.suspect:
      return encodeSuspect(decodeSuspect(body));
    case MessageType.alive:
      return encodeAlive(decodeAlive(body));
    case MessageType.dead:
      return encodeDead(decodeDead(body));
    default:
      return null;
  }
}

describe('msgpack in go-msgpack style', () => {
  it('writes strings and byte slices as old-spec raw, never str8 or bin', () => {
    const w = new MsgWriter();
    w.raw(Buffer.alloc(31));
    w.raw(Buffer.alloc(32));
    w.raw(Buffer.alloc(70000));
    const b = w.bytes();
    assert.equal(b[0], 0xbf);
    assert.equal(b[32], 0xda);
    assert.equal(b.readUInt16BE(33), 32);
    assert.equal(b[35 + 32], 0xdb);
  });

  it('writes unsigned and Go int fields like go-msgpack', () => {
    const enc = (f: (w: MsgWriter) => void): string => {
      const w = new MsgWriter();
      f(w);
      return w.bytes().toString('hex');
    };
    assert.equal(
      enc((w) => w.uint(127)),
      '7f',
    );
    assert.equal(
      enc((w) => w.uint(200)),
      'ccc8',
    );
    assert.equal(
      enc((w) => w.uint(17901)),
      'cd45ed',
    );
    assert.equal(
      enc((w) => w.uint(70000)),
      'ce00011170',
    );
    assert.equal(
      enc((w) => w.uint(2n ** 40n)),
      'cf0000010000000000',
    );
    assert.equal(
      enc((w) => w.int(5)),
      '05',
    );
    // go-msgpack 0.5.5 (the serf here): non-negative ints use unsigned formats
    assert.equal(
      enc((w) => w.int(690)),
      'cd02b2',
    );
    // go-msgpack v2: signed formats above 127
    assert.equal(
      enc((w) => w.int(200, true)),
      'd100c8',
    );
    assert.equal(
      enc((w) => w.int(70000, true)),
      'd200011170',
    );
    assert.equal(
      enc((w) => w.int(-1)),
      'ff',
    );
    assert.equal(
      enc((w) => w.int(-200)),
      'd1ff38',
    );
  });

  it('sorts struct keys by name and drops omitempty zero fields', () => {
    const b = encodeStruct({ SeqNo: { kind: 'uint', value: 1 }, Node: { kind: 'str', value: 'a' }, SourcePort: { kind: 'uint', value: 0 } }, ['SourcePort']);
    assert.equal(b.toString('hex'), '82a44e6f6465a161a55365714e6f01');
  });

  it('decodes bin and str8 as bytes too', () => {
    const m = decode(hex('82a3427566c4020102a24341d903616263')) as Record<string, unknown>;
    assert.deepEqual(m.Buf, Buffer.from([1, 2]));
    assert.deepEqual(m.CA, Buffer.from('abc'));
  });
});

describe('captured serf UDP traffic', () => {
  it('decodes every datagram and re-encodes every memberlist message byte for byte', () => {
    const seen = new Map<number, number>();
    let reencoded = 0;
    for (const u of plain.udp) {
      const pkt = decodePacket(hex(u.hex), noSec);
      const errors: Error[] = [];
      for (const leaf of flattenMessage(pkt, (e) => errors.push(e))) {
        seen.set(leaf.type, (seen.get(leaf.type) ?? 0) + 1);
        const again = reencode(leaf.type, leaf.body);
        if (again) {
          assert.equal(again.toString('hex'), Buffer.concat([Buffer.from([leaf.type]), leaf.body]).toString('hex'));
          reencoded++;
        }
      }
      assert.deepEqual(errors, []);
    }
    for (const t of [MessageType.ping, MessageType.ackResp, MessageType.alive, MessageType.dead, MessageType.user]) {
      assert.ok(seen.get(t), `capture has message type ${t}`);
    }
    assert.ok(reencoded >= 30);
  });

  it('rebuilds CRC-wrapped, compressed and compound packets exactly', () => {
    let rebuilt = 0;
    for (const u of plain.udp) {
      const raw = hex(u.hex);
      const crc = raw[0] === MessageType.hasCrc;
      let inner = crc ? stripCrc(raw)! : raw;
      assert.ok(inner);
      const compressed = inner[0] === MessageType.compress;
      if (compressed) inner = decompressPayload(inner.subarray(1));
      if (inner[0] === MessageType.compound) {
        const { parts, truncated } = decodeCompound(inner.subarray(1));
        assert.equal(truncated, 0);
        assert.deepEqual(makeCompound(parts), inner);
      }
      // Go compresses when it saves bytes: so does encodePacket
      assert.equal(encodePacket(inner, { ...noSec, compress: true, crc }).toString('hex'), u.hex);
      rebuilt++;
    }
    assert.equal(rebuilt, plain.udp.length);
  });

  it('reads serf alive messages: address, port, tags meta and versions', () => {
    const alive = plain.udp
      .flatMap((u) => flattenMessage(decodePacket(hex(u.hex), noSec), assert.fail))
      .filter((l) => l.type === MessageType.alive)
      .map((l) => decodeAlive(l.body));
    const sa = alive.find((a) => a.node === 'sa')!;
    assert.deepEqual([...sa.addr], [127, 0, 0, 1]);
    assert.equal(sa.port, 17901);
    assert.deepEqual([...sa.vsn!], [1, 5, 2, 2, 5, 5]);
    assert.equal(sa.meta![0], 0xff);
    assert.deepEqual({ ...(decode(sa.meta!.subarray(1)) as object) }, { role: Buffer.from('dns'), zone: Buffer.from('east') });
  });

  it('sees the graceful leave as dead with From == Node', () => {
    const dead = plain.udp
      .flatMap((u) => flattenMessage(decodePacket(hex(u.hex), noSec), assert.fail))
      .filter((l) => l.type === MessageType.dead)
      .map((l) => decodeDead(l.body));
    assert.ok(dead.length > 0);
    assert.ok(dead.every((d) => d.node === 'sb' && d.from === 'sb'));
  });
});

describe('captured serf TCP push/pull', () => {
  it('parses both directions and rebuilds the compressed stream byte for byte', () => {
    assert.equal(plain.tcp.length, 2);
    for (const t of plain.tcp) {
      const raw = hex(t.hex);
      const msg = parseStreamMessage(raw, noSec)!;
      assert.equal(msg.type, MessageType.pushPull);
      const pp = decodePushPull(msg.body);
      assert.equal(pp.join, true);
      assert.equal(pp.nodes.length, 1);
      assert.ok(pp.userState && pp.userState[0] === 2, 'serf push/pull user state');
      const again = encodePushPull(pp.join, pp.nodes, pp.userState);
      assert.deepEqual(again.subarray(1), msg.body);
      assert.equal(encodeStreamMessage(again, { ...noSec, compress: true }).toString('hex'), t.hex);
      // a partial stream asks for more bytes
      assert.equal(parseStreamMessage(raw.subarray(0, raw.length - 1), noSec), null);
    }
  });

  it("reads serf's push/pull state, its empty event buffer too, and writes it back byte for byte", () => {
    for (const t of plain.tcp) {
      const state = decodePushPull(parseStreamMessage(hex(t.hex), noSec)!.body).userState!;
      const pp = decodeSerfPushPull(state);
      assert.equal(pp.eventLTime, 1);
      assert.equal(pp.events.length, 512);
      assert.ok(pp.events.every((slot) => slot === null));
      assert.deepEqual(encodeSerfPushPull(pp), state);
    }
  });

  it('round-trips a TCP user message', () => {
    const m = encodeStreamUserMsg(Buffer.from('hello'));
    const parsed = parseStreamMessage(encodeStreamMessage(m, { ...noSec, compress: true }), noSec)!;
    assert.equal(parsed.type, MessageType.user);
    assert.equal(decodeStreamUserMsg(parsed.body).toString(), 'hello');
  });
});

describe('captured encrypted serf traffic', () => {
  it('decrypts every datagram with the known key', () => {
    let alive = 0;
    for (const u of encrypted.udp) {
      const raw = hex(u.hex);
      assert.equal(raw[0], 1, 'encryption version 1');
      assert.throws(() => decodePacket(raw, { ...encSec, keyring: new Keyring([randomBytes(32)]) }), /no installed keys/);
      for (const leaf of flattenMessage(decodePacket(raw, encSec), assert.fail)) {
        if (leaf.type === MessageType.alive) alive++;
        const again = reencode(leaf.type, leaf.body);
        if (again) assert.deepEqual(again.subarray(1), leaf.body);
      }
    }
    assert.ok(alive > 0);
  });

  it('decrypts the push/pull streams and refuses a wrong key', () => {
    for (const t of encrypted.tcp) {
      const raw = hex(t.hex);
      assert.equal(raw[0], MessageType.encrypt);
      const msg = parseStreamMessage(raw, encSec)!;
      assert.equal(msg.type, MessageType.pushPull);
      assert.ok(decodePushPull(msg.body).nodes.length >= 1);
      assert.throws(() => parseStreamMessage(raw, { ...noSec, keyring: new Keyring([randomBytes(32)]) }), /no installed keys/);
      assert.throws(() => parseStreamMessage(raw, noSec), /encryption is not configured/);
    }
  });

  it('rejects a plaintext stream when encryption is on', () => {
    assert.throws(() => parseStreamMessage(hex(plain.tcp[0]!.hex), encSec), /not encrypted/);
  });
});

describe('AES-GCM keyring', () => {
  for (const size of [16, 24, 32]) {
    for (const vsn of [0, 1] as const) {
      it(`round-trips ${size}-byte keys with encryption version ${vsn}`, () => {
        const key = randomBytes(size);
        const other = randomBytes(size);
        const msg = randomBytes(37);
        const aad = Buffer.from('label');
        const ct = encryptPayload(vsn, key, msg, aad);
        assert.equal(ct.length, encryptedLength(vsn, msg.length));
        assert.deepEqual(decryptPayload([other, key], ct, aad), msg);
        assert.throws(() => decryptPayload([other], ct, aad), /no installed keys/);
        assert.throws(() => decryptPayload([key], ct, Buffer.from('other')), /no installed keys/);
      });
    }
  }

  it('encrypts with the primary key and decrypts with any key', () => {
    const a = randomBytes(16);
    const b = randomBytes(16);
    const ring = new Keyring([a, b]);
    ring.useKey(b);
    assert.deepEqual(ring.primaryKey(), b);
    const pkt = encodePacket(Buffer.from([0, 0x80]), { ...noSec, keyring: ring, compress: false, crc: false });
    assert.deepEqual(decryptPayload([b], pkt, Buffer.alloc(0)), Buffer.from([0, 0x80]));
    assert.throws(() => ring.removeKey(b));
  });

  it('pads version 0 with PKCS7 to whole blocks', () => {
    const key = randomBytes(32);
    const ct = encryptPayload(0, key, Buffer.alloc(16), Buffer.alloc(0));
    assert.equal(ct.length, 1 + 12 + 32 + 16);
  });
});

describe('LZW, CRC and label', () => {
  it('round-trips data long enough to reset the code table', () => {
    const text = Buffer.from(Array.from({ length: 4000 }, (_, i) => `node-${i % 97} `).join(''));
    const rnd = randomBytes(20000);
    for (const input of [text, rnd, Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(100000, 7)]) {
      assert.deepEqual(lzwDecompress(lzwCompress(input)), input);
    }
  });

  it('matches Go compress/lzw output for a known input', () => {
    // From the capture: Go's compressed push/pull must equal ours.
    const raw = hex(plain.tcp[0]!.hex);
    const buf = decodeAt(raw, 1).value as Record<string, Buffer>;
    assert.deepEqual(lzwCompress(lzwDecompress(buf.Buf!)), buf.Buf);
    assert.deepEqual(compressPayload(lzwDecompress(buf.Buf!)), raw);
  });

  it('caps decompression', () => {
    assert.throws(() => lzwDecompress(lzwCompress(Buffer.alloc(5000)), 4000), /larger than limit/);
  });

  it('computes IEEE CRC32 and rejects a bad checksum', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    const w = addCrc(Buffer.from([0, 1, 2]));
    assert.deepEqual(stripCrc(w), Buffer.from([0, 1, 2]));
    w[7] = 9;
    assert.equal(stripCrc(w), null);
  });

  it('adds and removes the label header, using the label as AAD', () => {
    const pkt = addLabelHeader(Buffer.from([1, 2]), 'prod');
    assert.deepEqual(pkt, Buffer.from([244, 4, 0x70, 0x72, 0x6f, 0x64, 1, 2]));
    assert.deepEqual(removeLabelHeader(pkt), { label: 'prod', rest: Buffer.from([1, 2]) });
    const sec = { ...encSec, label: 'prod' };
    const enc = addLabelHeader(
      encodePacket(encodePing({ seqNo: 1, node: 'x', sourceAddr: null, sourcePort: 0, sourceNode: '' }), { ...sec, compress: false, crc: true }),
      'prod',
    );
    assert.equal(flattenMessage(decodePacket(enc, sec), assert.fail)[0]!.type, MessageType.ping);
    assert.throws(() => decodePacket(enc, { ...sec, label: 'dev' }), /unacceptable label/);
    assert.throws(() => decodePacket(enc.subarray(6), sec), /unacceptable label/);
  });
});
