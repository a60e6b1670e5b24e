// IPv6 in the gossip layer without sockets: the Addr bytes memberlist puts
// on the wire (4 for IPv4, 16 for IPv6), the codec round trip of 16-byte
// addresses, `host:port` parsing with memberlist's rules, which family a
// bind reaches, and the `gossip` Corefile block's address errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGossip } from '../plugins/gossip/config.js';
import { CorefileError, parseCorefile } from '../src/corefile/index.js';
import { ipFromWire, ipToWire, unreachableReason } from '../src/gossip/address.js';
import { splitHostPort } from '../src/util/hostport.js';
import {
  MessageType,
  decodeAlive,
  decodeIndirectPing,
  decodePing,
  decodePushPull,
  encodeAlive,
  encodeIndirectPing,
  encodePing,
  encodePushPull,
  type PushNodeState,
} from '../src/gossip/messages.js';
import { type WireSecurity, decodePacket, encodePacket, flattenMessage } from '../src/gossip/net.js';

const LOOPBACK6 = Buffer.from('00000000000000000000000000000001', 'hex');
const DOC6 = Buffer.from('20010db8000000000000000000000001', 'hex');
const MAPPED4 = Buffer.from('00000000000000000000ffff0a000001', 'hex');

describe('node addresses on the wire (memberlist net.IP)', () => {
  it('sends IPv4 as 4 bytes, also when written v4-mapped, and IPv6 as 16', () => {
    assert.deepEqual(ipToWire('127.0.0.1'), Buffer.from([127, 0, 0, 1]));
    assert.deepEqual(ipToWire('::ffff:10.0.0.1'), Buffer.from([10, 0, 0, 1]));
    assert.deepEqual(ipToWire('::1'), LOOPBACK6);
    assert.deepEqual(ipToWire('2001:DB8::1'), DOC6);
    assert.throws(() => ipToWire('localhost'), /not an IP address: localhost/);
  });

  it('reads 4 and 16 bytes as Go prints them: v4-mapped as IPv4, IPv6 compressed', () => {
    assert.equal(ipFromWire(Buffer.from([203, 0, 113, 7])), '203.0.113.7');
    assert.equal(ipFromWire(LOOPBACK6), '::1');
    assert.equal(ipFromWire(DOC6), '2001:db8::1');
    assert.equal(ipFromWire(MAPPED4), '10.0.0.1');
    assert.throws(() => ipFromWire(Buffer.alloc(5)), /an address of 5 bytes \(expected 4 or 16\)/);
  });

  it('round-trips 16-byte addresses in alive, ping, indirect ping and push/pull', () => {
    const alive = { incarnation: 7, node: 'v6', addr: LOOPBACK6, port: 17700, meta: Buffer.from('m'), vsn: Buffer.from([1, 5, 2, 2, 5, 5]) };
    const aliveBytes = encodeAlive(alive);
    assert.equal(aliveBytes[0], MessageType.alive);
    // go-msgpack's old spec: a []byte of 16 is a fixstr raw (0xb0) after the key
    const key = aliveBytes.indexOf('Addr');
    assert.deepEqual(aliveBytes.subarray(key + 4, key + 21), Buffer.concat([Buffer.from([0xb0]), LOOPBACK6]));
    assert.deepEqual(decodeAlive(aliveBytes.subarray(1)), alive);

    const ping = { seqNo: 9, node: 'v6', sourceAddr: DOC6, sourcePort: 17701, sourceNode: 'me' };
    assert.deepEqual(decodePing(encodePing(ping).subarray(1)), ping);

    const ind = { ...ping, target: LOOPBACK6, port: 17702, nack: true };
    assert.deepEqual(decodeIndirectPing(encodeIndirectPing(ind).subarray(1)), ind);

    const state = (name: string, addr: Buffer): PushNodeState => ({
      name,
      addr,
      port: 7946,
      meta: null,
      incarnation: 1,
      state: 0,
      vsn: Buffer.from([1, 5, 2, 0, 0, 0]),
    });
    const nodes = [state('v4', Buffer.from([127, 0, 0, 1])), state('v6', LOOPBACK6), state('mapped', MAPPED4)];
    const pp = decodePushPull(encodePushPull(true, nodes, null).subarray(1));
    assert.deepEqual(pp.nodes, nodes);
  });

  it('keeps 16-byte addresses through the packet pipeline (compression and CRC)', () => {
    const sec: WireSecurity = { keyring: null, encryptionVersion: 1, label: '', verifyIncoming: true, verifyOutgoing: true };
    const alive = encodeAlive({ incarnation: 1, node: 'v6', addr: DOC6, port: 17703, meta: null, vsn: null });
    const wire = encodePacket(alive, { ...sec, compress: true, crc: true });
    const [leaf] = flattenMessage(decodePacket(wire, sec), (err) => assert.fail(err));
    assert.equal(leaf!.type, MessageType.alive);
    assert.deepEqual(decodeAlive(leaf!.body).addr, DOC6);
  });
});

describe('join addresses (memberlist util.go hasPort/ensurePort)', () => {
  it('splits host and port, IPv6 in brackets, a bare IPv6 with the default port', () => {
    const ok: [string, string, number][] = [
      ['127.0.0.1', '127.0.0.1', 7946],
      ['127.0.0.1:17704', '127.0.0.1', 17704],
      ['node1.example:80', 'node1.example', 80],
      ['[::1]:17705', '::1', 17705],
      ['[::1]', '::1', 7946],
      ['::1', '::1', 7946],
      ['2001:db8::7', '2001:db8::7', 7946],
      ['[2001:db8::7]:0', '2001:db8::7', 0],
    ];
    for (const [text, host, port] of ok) assert.deepEqual(splitHostPort(text, 7946), { host, port }, text);
  });

  it('says what is wrong with a malformed address', () => {
    const bad: [string, RegExp][] = [
      ['[::1', /missing '\]'/],
      ['[::1]17705', /expected ':PORT' after '\]', got '17705'/],
      ['[::1]:', /'' is not a port/],
      ['[::1]:65536', /'65536' is not a port \(0-65535\)/],
      ['[127.0.0.1]:80', /'127\.0\.0\.1' is not an IPv6 address/],
      ['::1::2', /'::1::2' is not an IPv6 address/],
      ['fe80::1%eth0', /zone indexes are not supported/],
      ['::1]:80', /brackets go around an IPv6 address/],
      [':80', /missing host/],
      ['127.0.0.1:http', /'http' is not a port/],
    ];
    for (const [text, reason] of bad) assert.throws(() => splitHostPort(text, 7946), reason, text);
  });
});

describe('address families', () => {
  it('a bind reaches its own family; `::` reaches both', () => {
    assert.equal(unreachableReason('127.0.0.1', '127.0.0.2'), undefined);
    assert.equal(unreachableReason('::1', '2001:db8::1'), undefined);
    assert.equal(unreachableReason('::', '127.0.0.1'), undefined);
    assert.equal(unreachableReason('::', '::1'), undefined);
    assert.equal(unreachableReason('127.0.0.1', 'seed.example'), undefined);
    assert.equal(unreachableReason('127.0.0.1', '::1'), 'it is an IPv6 address and this node gossips on IPv4 (127.0.0.1)');
    assert.equal(unreachableReason('0.0.0.0', '::1'), 'it is an IPv6 address and this node gossips on IPv4 (0.0.0.0)');
    assert.equal(unreachableReason('::1', '127.0.0.1'), 'it is an IPv4 address and this node gossips on IPv6 (::1)');
  });
});

describe('gossip Corefile addresses', () => {
  const parse = (block: string) => {
    const [server] = parseCorefile(`. {\n  gossip {\n    ${block}\n  }\n}\n`, 'Corefile', { env: {} });
    return parseGossip(server!.directives[0]!);
  };

  it('takes IPv6 bind, advertise and join addresses, bracketed or bare', () => {
    const s = parse('bind [::1]:17706\n    advertise [0:0::1]\n    join [::1]:17707 ::1 127.0.0.1 seed.example:17708');
    assert.equal(s.overrides.bindAddr, '::1');
    assert.equal(s.overrides.bindPort, 17706);
    assert.equal(s.overrides.advertiseAddr, '::1');
    assert.equal(s.overrides.advertisePort, 7946);
    assert.deepEqual(s.join, ['[::1]:17707', '[::1]:7946', '127.0.0.1:7946', 'seed.example:17708']);
    assert.equal(parse('bind ::').overrides.bindAddr, '::');
  });

  it('refuses malformed ones with FILE:LINE and the reason', () => {
    const refused = (block: string, reason: RegExp) =>
      assert.throws(
        () => parse(block),
        (err: unknown) => err instanceof CorefileError && reason.test(err.message),
        block,
      );
    refused('bind [::1:17709', /^Corefile:3: gossip: bind: '\[::1:17709': missing '\]'$/);
    refused('bind [::1]17709', /^Corefile:3: gossip: bind: '\[::1\]17709': expected ':PORT' after '\]', got '17709'$/);
    refused('bind [::1]:99999', /^Corefile:3: gossip: bind: '\[::1\]:99999': '99999' is not a port \(0-65535\)$/);
    refused('bind ::1::2', /^Corefile:3: gossip: bind: '::1::2': '::1::2' is not an IPv6 address$/);
    refused('advertise [fe80::1%eth0]:17709', /^Corefile:3: gossip: advertise: .*zone indexes are not supported$/);
    refused('join [::1]:17709 [::1', /^Corefile:3: gossip: join: '\[::1': missing '\]'$/);
    refused('bind localhost:17709', /^Corefile:3: gossip: bind: 'localhost:17709': 'localhost' is not an IP address/);
    refused(
      'bind 127.0.0.1:17709\n    advertise [::1]:17709',
      /^Corefile:4: gossip: advertise: '\[::1\]:17709': it is an IPv6 address and this node gossips on IPv4 \(127\.0\.0\.1\)$/,
    );
  });
});
