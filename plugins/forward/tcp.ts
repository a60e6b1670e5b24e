// TCP to one upstream: a pool of connections, each carrying one query at a
// time (as CoreDNS does), kept for reuse until idle for `expire`.

import { connect, type Socket } from 'node:net';
import type { Address } from './address.js';
import { UpstreamError } from './errors.js';
import { answers, randomId } from './message.js';

class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private waiter: { sent: Buffer; resolve(r: Buffer): void; reject(e: Error): void } | undefined;
  /** Set once this connection has carried a reply, so a later close means a stale pooled connection. */
  used = false;
  closed = false;
  idleSince = 0;

  constructor(
    readonly socket: Socket,
    label: string,
    onClose: () => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d) => this.data(d));
    socket.on('error', () => {}); // 'close' follows and carries the failure
    socket.on('close', () => {
      this.closed = true;
      this.fail(new UpstreamError(`${label}: tcp connection closed`, this.used));
      onClose();
    });
  }

  query(sent: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiter = { sent, resolve, reject };
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(sent.length);
      this.socket.write(Buffer.concat([len, sent]));
    });
  }

  fail(err: Error): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  private data(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 2) {
      const len = this.buf.readUInt16BE(0);
      if (this.buf.length < 2 + len) return;
      const frame = this.buf.subarray(2, 2 + len);
      this.buf = this.buf.subarray(2 + len);
      const w = this.waiter;
      // A reply nobody asked for means we no longer know where we are in the stream.
      if (!w || !answers(w.sent, frame)) {
        this.socket.destroy();
        return;
      }
      this.waiter = undefined;
      this.used = true;
      w.resolve(Buffer.from(frame));
    }
  }
}

export class TcpPool {
  /** Idle connections, most recently used last. */
  private idle: Conn[] = [];
  private readonly busy = new Set<Conn>();

  constructor(
    private readonly addr: Address,
    private readonly expireMs: number,
  ) {}

  /** Sends `query` (copied, fresh random ID); retries once on a new connection if a pooled one turned out closed. */
  async exchange(query: Buffer, timeoutMs: number): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    const pooled = this.take();
    if (pooled) {
      try {
        return await this.run(pooled, query, deadline);
      } catch (err) {
        if (!(err instanceof UpstreamError && err.staleConnection)) throw err;
      }
    }
    return this.run(await this.dial(deadline), query, deadline);
  }

  close(): void {
    for (const c of [...this.idle, ...this.busy]) c.socket.destroy();
    this.idle = [];
    this.busy.clear();
  }

  private async run(conn: Conn, query: Buffer, deadline: number): Promise<Buffer> {
    const sent = Buffer.from(query);
    sent.writeUInt16BE(randomId(), 0);
    this.busy.add(conn);
    const timer = setTimeout(
      () => {
        conn.fail(new UpstreamError(`${this.addr.label}: tcp read timeout`));
        conn.socket.destroy();
      },
      Math.max(0, deadline - Date.now()),
    );
    try {
      const reply = await conn.query(sent);
      if (conn.closed || this.expireMs === 0) conn.socket.destroy();
      else {
        conn.idleSince = Date.now();
        this.idle.push(conn);
      }
      return reply;
    } finally {
      clearTimeout(timer);
      this.busy.delete(conn);
    }
  }

  /** The most recently used idle connection that has not expired; older expired ones are closed. */
  private take(): Conn | undefined {
    const now = Date.now();
    for (;;) {
      const c = this.idle.pop();
      if (!c) return undefined;
      if (!c.closed && now - c.idleSince < this.expireMs) return c;
      c.socket.destroy();
    }
  }

  private dial(deadline: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.addr.host, port: this.addr.port });
      socket.unref(); // pending timers keep the process alive while a query runs
      const conn = new Conn(socket, this.addr.label, () => {
        this.idle = this.idle.filter((c) => c !== conn);
      });
      // Idle connections close themselves after `expire`.
      socket.setTimeout(this.expireMs, () => {
        if (!this.busy.has(conn)) socket.destroy();
      });
      const timer = setTimeout(
        () => {
          socket.destroy();
          reject(new UpstreamError(`${this.addr.label}: tcp connect timeout`));
        },
        Math.max(0, deadline - Date.now()),
      );
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(conn);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new UpstreamError(`${this.addr.label}: tcp connect failed`));
      });
    });
  }
}
