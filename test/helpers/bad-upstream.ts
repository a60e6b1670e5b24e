// A small upstream on loopback (UDP and TCP, free ports) that misbehaves
// per query name: the first label says how. It records every query it gets
// (source port, ID, name) so tests can check what a forwarder sends.
//
//   loop.*       the answer's owner is a compression pointer to itself
//   fwdptr.*     the answer's owner points forward, past itself
//   short.*      ANCOUNT says 2, one record is there, TC clear
//   rdlen.*      the record's RDLENGTH is 65535
//   trailing.*   garbage after the last record
//   twoopt.*     two OPT records in the additional section
//   opt.*        a good answer with an OPT record, even to a query without EDNS
//   ttlmax.*     TTL 0xffffffff          ttl0.*  TTL 0
//   servfail.*   SERVFAIL                refused.*  REFUSED
//   anything else: A 203.0.113.7, TTL 60
//
// `mode` forces one behaviour for every name (e.g. an upstream that always says SERVFAIL).

import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import * as packet from 'dns-packet';
import { freePort } from './ports.js';

export const GOOD_ADDRESS = '203.0.113.7';

export interface Seen {
  proto: 'udp' | 'tcp';
  port: number;
  id: number;
  name: string;
  edns: boolean;
}

export interface BadUpstream {
  port: number;
  seen: Seen[];
  /** How many queries named `name` arrived. */
  count(name: string): number;
  stop(): Promise<void>;
}

export async function badUpstream(mode?: string): Promise<BadUpstream> {
  const seen: Seen[] = [];
  const udp: Socket = createSocket('udp4');
  udp.on('message', (m, rinfo) => {
    const r = reply(m, 'udp', rinfo.port, seen, mode);
    if (r) udp.send(r, rinfo.port, rinfo.address);
  });
  // One port number for UDP and TCP, as a forwarder expects of one upstream.
  const port = await freePort();
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  const sockets = new Set<TcpSocket>();
  const tcp: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + m.length);
        const r = reply(m, 'tcp', sock.remotePort ?? 0, seen, mode);
        if (r) sock.write(Buffer.concat([u16(r.length), r]));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, '127.0.0.1', resolve);
  });
  let stopped = false;
  return {
    port,
    seen,
    count: (name) => seen.filter((s) => s.name === name.toLowerCase()).length,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      udp.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => tcp.close(r));
    },
  };
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function reply(m: Buffer, proto: 'udp' | 'tcp', port: number, seen: Seen[], mode: string | undefined): Buffer | undefined {
  let q: packet.Packet;
  try {
    q = packet.decode(m);
  } catch {
    return undefined;
  }
  const question = q.questions?.[0];
  if (!question) return undefined;
  const name = question.name.toLowerCase();
  const edns = (q.additionals ?? []).some((a) => a.type === 'OPT');
  seen.push({ proto, port, id: q.id ?? 0, name, edns });
  const how = mode ?? name.split('.')[0]!;
  const base = (extra: Partial<packet.Packet> = {}, ttl = 60): Buffer =>
    packet.encode({
      type: 'response',
      id: q.id,
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: [{ type: 'A', name: question.name, ttl, class: 'IN', data: GOOD_ADDRESS }],
      ...extra,
    });
  const opt = { type: 'OPT', name: '.', udpPayloadSize: 4096, flags: 0 } as packet.Answer;
  switch (how) {
    case 'loop':
    case 'fwdptr': {
      const r = base();
      const at = questionEnd(r);
      // The answer's owner (a pointer to the question today) now points at itself or past itself.
      r.writeUInt16BE(0xc000 | (how === 'loop' ? at : at + 2), at);
      return r;
    }
    case 'short': {
      const r = base();
      r.writeUInt16BE(2, 6);
      return r;
    }
    case 'rdlen': {
      const r = base();
      r.writeUInt16BE(65535, r.length - 6);
      return r;
    }
    case 'trailing':
      return Buffer.concat([base(), Buffer.from('garbage!')]);
    case 'twoopt':
      return base({ additionals: [opt, { ...opt, udpPayloadSize: 512 } as packet.Answer] });
    case 'opt':
      return base({ additionals: [opt] });
    case 'ttlmax':
      return base({}, 0xffffffff);
    case 'ttl0':
      return base({}, 0);
    case 'servfail':
    case 'refused':
      return packet.encode({
        type: 'response',
        id: q.id,
        flags: (how === 'servfail' ? 2 : 5) | packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
        questions: q.questions,
      });
    default:
      return base();
  }
}

function questionEnd(msg: Buffer): number {
  let pos = 12;
  while (msg[pos]! !== 0) pos += msg[pos]! + 1;
  return pos + 5;
}
