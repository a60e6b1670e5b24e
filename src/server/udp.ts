// UDP listener on node:dgram: one socket, every datagram straight to the
// dispatcher. The fallback path when the batching addon is not built or not
// wanted (udp-io.ts chooses).

import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Peer } from '../dns/request.js';
import type { Dispatcher, ReplyTo } from './dispatch.js';
import { listenError } from './listen-error.js';

/**
 * Replies go to the address a datagram came from, always an IP literal, so the
 * name lookup `send` would do (dns.lookup, then a deferred callback) is skipped.
 */
function literalLookup(address: string, family: unknown, callback: (err: null, address: string, family: number) => void): void {
  callback(null, address, typeof family === 'number' ? family : isIPv6(address) ? 6 : 4);
}

/** Receive and send buffer size of every DNS listener's socket, on either path. */
export const SOCKET_BUFFER_BYTES = 4 << 20;

/** Which UDP I/O a listener runs: the native addon's batches, or node:dgram. */
export type UdpPath = 'batch' | 'dgram';

/** A UDP listener, whichever path it runs. */
export interface UdpListener {
  readonly path: UdpPath;
  address(): { address: string; port: number };
  close(): Promise<void>;
}

/** How a DNS listener's socket is made; bench/node-limit.ts uses the same, so its row is a fair ceiling. */
export function udpSocketOptions(address: string): SocketOptions {
  return {
    type: isIPv6(address) ? 'udp6' : 'udp4',
    recvBufferSize: SOCKET_BUFFER_BYTES,
    sendBufferSize: SOCKET_BUFFER_BYTES,
    lookup: literalLookup,
  };
}

export function listenUdp(address: string, port: number, dispatcher: Dispatcher): Promise<UdpListener> {
  const sock = createSocket(udpSocketOptions(address));
  return new Promise((resolve, reject) => {
    const fail = (e: Error): void => reject(listenError('udp', address, port, e));
    sock.once('error', fail);
    sock.bind({ address, port, exclusive: false }, () => {
      sock.off('error', fail);
      // A send failure to one client (ICMP unreachable reported late) must not stop the listener.
      sock.on('error', () => {});
      const local = sock.address();
      sock.on('message', (msg, rinfo) => {
        const peer: Peer = {
          proto: 'udp',
          remoteAddress: rinfo.address,
          remotePort: rinfo.port,
          localAddress: local.address,
          localPort: local.port,
        };
        dispatcher.handle(msg, peer, new DgramReply(sock, rinfo.port, rinfo.address));
      });
      resolve(dgramListener(sock));
    });
  });
}

/**
 * Where one datagram's reply goes: back to its source. A class: an object
 * literal holding a fresh closure, made per datagram, cost ~0.6 µs a query
 * more (bench/chain.ts, the dgram path's rows).
 */
export class DgramReply implements ReplyTo {
  constructor(
    private readonly sock: Pick<Socket, 'send'>,
    private readonly port: number,
    private readonly address: string,
  ) {}

  send(out: Buffer | null): void {
    if (out !== null) this.sock.send(out, this.port, this.address);
  }
}

function dgramListener(sock: Socket): UdpListener {
  let closed: Promise<void> | undefined;
  return {
    path: 'dgram',
    address: () => sock.address(),
    close: () => (closed ??= new Promise((resolve) => sock.close(() => resolve()))),
  };
}
