// Minimal node:dgram responder: one fixed A answer to every datagram, with
// only the ID patched. No parsing, so it shows Node's own UDP ceiling. Its
// socket is made exactly as podswarm-dns's listener makes its own (buffer
// sizes, no name lookup on send), so the row is the best Node does here.
// Usage: node --import tsx bench/node-limit.ts PORT

import { createSocket } from 'node:dgram';
import { udpSocketOptions } from '../src/server/udp.js';

/** svc0.bench.cluster.local. A 10.80.0.1, TTL 30, as an authoritative answer. */
function fixedReply(): Buffer {
  const name = Buffer.concat(
    ['svc0', 'bench', 'cluster', 'local'].map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])).concat(Buffer.from([0])),
  );
  const header = Buffer.from([0, 0, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0]);
  const question = Buffer.concat([name, Buffer.from([0, 1, 0, 1])]);
  const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 80, 0, 1]);
  return Buffer.concat([header, question, answer]);
}

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: node-limit.ts PORT\n');
  process.exit(2);
}
const reply = fixedReply();
const sock = createSocket(udpSocketOptions('127.0.0.1'));
sock.on('message', (msg, rinfo) => {
  if (msg.length < 2) return;
  // A fresh copy: send() may still hold the buffer when the next query arrives.
  const out = Buffer.allocUnsafe(reply.length);
  reply.copy(out);
  out[0] = msg[0]!;
  out[1] = msg[1]!;
  sock.send(out, rinfo.port, rinfo.address);
});
sock.on('error', (err) => {
  process.stderr.write(`node-limit: ${err.message}\n`);
  process.exit(1);
});
sock.bind(port, '127.0.0.1');
