// One connected UDP socket per upstream, shared by every query to it.
// Replies are matched to queries by ID and question; anything else that
// arrives (late, spoofed, mismatched) is dropped.

import { createSocket, type Socket } from 'node:dgram';
import type { Address } from './address.js';
import { UpstreamError } from './errors.js';
import { answers, randomId } from './message.js';

interface Pending {
  sent: Buffer;
  resolve(reply: Buffer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

// IDs are 16 bits; refuse new queries well before the space is exhausted.
const MAX_IN_FLIGHT = 32768;

export class UdpChannel {
  private socket: Socket | undefined;
  /** Datagrams waiting for the socket's connect to finish (Node refuses to send before). */
  private queued: Buffer[] | undefined;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(private readonly addr: Address) {}

  /** Sends `query` (copied, with a fresh random ID) and resolves with the matching reply. */
  exchange(query: Buffer, timeoutMs: number): Promise<Buffer> {
    // A query still running in a config that was reloaded away must not open a socket nobody closes.
    if (this.closed) return Promise.reject(new UpstreamError(`${this.addr.label}: closed`));
    if (this.pending.size >= MAX_IN_FLIGHT) return Promise.reject(new UpstreamError(`${this.addr.label}: too many queries in flight`));
    const sent = Buffer.from(query);
    let id = randomId();
    while (this.pending.has(id)) id = randomId();
    sent.writeUInt16BE(id, 0);
    const socket = this.open();
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new UpstreamError(`${this.addr.label}: udp read timeout after ${timeoutMs}ms`));
      }, timeoutMs);
      this.pending.set(id, { sent, resolve, reject, timer });
      if (this.queued) this.queued.push(sent);
      else socket.send(sent);
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
    this.socket = undefined;
    this.queued = undefined;
    this.failAll(new UpstreamError(`${this.addr.label}: closed`));
  }

  private open(): Socket {
    if (this.socket) return this.socket;
    const socket = createSocket(this.addr.family === 6 ? 'udp6' : 'udp4');
    socket.on('message', (msg) => this.receive(msg));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // ECONNREFUSED is the ICMP "port unreachable" for one of our datagrams:
      // the upstream is not listening, so nothing in flight will be answered.
      this.failAll(new UpstreamError(`${this.addr.label}: ${err.code ?? err.message}`));
      if (err.code !== 'ECONNREFUSED' && this.socket === socket) {
        socket.close();
        this.socket = undefined;
        this.queued = undefined;
      }
    });
    const queued: Buffer[] = [];
    this.queued = queued;
    socket.connect(this.addr.port, this.addr.host, () => {
      if (this.queued !== queued) return;
      this.queued = undefined;
      for (const msg of queued) socket.send(msg);
    });
    socket.unref();
    this.socket = socket;
    return socket;
  }

  private receive(msg: Buffer): void {
    if (msg.length < 12) return;
    const id = msg.readUInt16BE(0);
    const p = this.pending.get(id);
    if (!p || !answers(p.sent, msg)) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(msg);
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}
