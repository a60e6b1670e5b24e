// UDP to one upstream: every query on a socket of its own, opened for it and
// closed with its reply (RFC 5452): the source port is the kernel's random
// ephemeral choice, so a spoofer must guess port and ID, 32 bits, not 16.
// The socket is connected, so the kernel drops datagrams from anyone but the
// upstream; a reply must still match the query's ID and question.

import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import type { Address } from './address.js';
import { UpstreamError } from './errors.js';
import { answers, randomId } from './message.js';

/** Each query in flight holds a file descriptor; past this many per upstream, refuse rather than run out. */
export const MAX_IN_FLIGHT = 4096;

/** The upstream is an IP literal: skip the dns.lookup that connect would do. */
function literalLookup(address: string, _opts: unknown, callback: (err: null, address: string, family: number) => void): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}

export class UdpChannel {
  /** Each query in flight: its socket, and how to fail it. */
  private readonly inFlight = new Map<Socket, (err: Error) => void>();
  private readonly options: SocketOptions;
  private closed = false;

  constructor(private readonly addr: Address) {
    this.options = { type: addr.family === 6 ? 'udp6' : 'udp4', lookup: literalLookup as unknown as SocketOptions['lookup'] };
  }

  /** Sends `query` (copied, with a fresh random ID) from a fresh port and resolves with the matching reply. */
  exchange(query: Buffer, timeoutMs: number): Promise<Buffer> {
    // A query still running in a config that was reloaded away must not open a socket nobody closes.
    if (this.closed) return Promise.reject(new UpstreamError(`${this.addr.label}: closed`));
    if (this.inFlight.size >= MAX_IN_FLIGHT) return Promise.reject(new UpstreamError(`${this.addr.label}: too many queries in flight`));
    const sent = Buffer.from(query);
    sent.writeUInt16BE(randomId(), 0);
    const socket = createSocket(this.options);
    return new Promise<Buffer>((resolve, reject) => {
      const settle = (err: Error | null, reply?: Buffer): void => {
        clearTimeout(timer);
        if (!this.inFlight.delete(socket)) return;
        socket.close();
        if (err) reject(err);
        else resolve(reply!);
      };
      const timer = setTimeout(() => settle(new UpstreamError(`${this.addr.label}: udp read timeout after ${timeoutMs}ms`)), timeoutMs);
      socket.on('message', (msg) => {
        if (answers(sent, msg)) settle(null, msg);
      });
      // ECONNREFUSED is the ICMP "port unreachable" for our datagram: nobody listens there.
      socket.on('error', (err: NodeJS.ErrnoException) => settle(new UpstreamError(`${this.addr.label}: ${err.code ?? err.message}`)));
      this.inFlight.set(socket, settle);
      socket.connect(this.addr.port, this.addr.host, () => {
        if (this.inFlight.has(socket)) socket.send(sent);
      });
      socket.unref();
    });
  }

  /** Fails every query in flight and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const fail of [...this.inFlight.values()]) fail(new UpstreamError(`${this.addr.label}: closed`));
  }
}
