// Raw DNS over UDP/TCP for tests that need exact bytes (malformed input,
// pipelining) and dns-packet as the reference decoder; raw datagrams for
// other protocols (gossip packets).

import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import * as packet from 'dns-packet';

/** Sends one IPv4 datagram and expects no reply; resolves once it is sent. */
export function sendDatagram(host: string, port: number, buf: Buffer): Promise<void> {
  const sock = createSocket('udp4');
  return new Promise((resolve, reject) => sock.send(buf, port, host, (err) => (sock.close(), err ? reject(err) : resolve())));
}

/** Sends one datagram; resolves with the reply, or null after `timeoutMs` with none. */
export function udpExchange(port: number, msg: Buffer, timeoutMs = 1000, host = '127.0.0.1'): Promise<Buffer | null> {
  const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sock.close();
      resolve(null);
    }, timeoutMs);
    sock.once('message', (reply) => {
      clearTimeout(timer);
      sock.close();
      resolve(reply);
    });
    sock.send(msg, port, host);
  });
}

/** Writes `msgs` on one TCP connection at once; resolves with `expect` replies (in arrival order). */
export function tcpExchange(port: number, msgs: Buffer[], expect = msgs.length, timeoutMs = 3000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const replies: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`got ${replies.length} of ${expect} TCP replies`));
    }, timeoutMs);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        replies.push(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
      }
      if (replies.length >= expect) {
        clearTimeout(timer);
        sock.destroy();
        resolve(replies);
      }
    });
    sock.on('error', reject);
    sock.write(Buffer.concat(msgs.flatMap((m) => [u16(m.length), m])));
  });
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A query in wire form, made by the reference encoder. */
export function query(name: string, type: packet.RecordType = 'A', opts: { id?: number; edns?: number; rd?: boolean } = {}): Buffer {
  return packet.encode({
    type: 'query',
    id: opts.id ?? 4242,
    flags: opts.rd === false ? 0 : packet.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals: opts.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, flags: 0 } as packet.Answer] : [],
  });
}

/** dns-packet's decoded form, with the fields its typings leave out. */
export interface Decoded {
  id: number;
  rcode: string;
  flag_tc: boolean;
  flag_aa: boolean;
  questions: Array<{ name: string; type: string }>;
  answers: Array<{ name: string; type: string; ttl: number; data: unknown }>;
  additionals: Array<{ name: string; type: string; udpPayloadSize?: number; data?: unknown }>;
}

export function decode(buf: Buffer): Decoded {
  const m = packet.decode(buf) as unknown as Partial<Decoded>;
  return { ...m, answers: m.answers ?? [], additionals: m.additionals ?? [], questions: m.questions ?? [] } as Decoded;
}
