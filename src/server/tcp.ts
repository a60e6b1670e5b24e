// TCP listener: 2-byte length framing, many queries per connection answered
// as they complete (possibly out of order), an idle timeout, and back
// pressure so a client that does not read cannot grow our buffers.

import { createServer, type Server, type Socket } from 'node:net';
import type { Peer } from '../dns/request.js';
import type { Dispatcher, ReplyTo } from './dispatch.js';
import { listenError } from './listen-error.js';

const IDLE_MS = 10_000;
const MAX_IN_FLIGHT = 256;

export interface TcpListener {
  server: Server;
  /** Stops accepting and drops open connections. */
  close(): Promise<void>;
}

export function listenTcp(address: string, port: number, dispatcher: Dispatcher): Promise<TcpListener> {
  const conns = new Set<Socket>();
  const server = createServer({ noDelay: true }, (sock) => {
    conns.add(sock);
    sock.once('close', () => conns.delete(sock));
    serveConnection(sock, dispatcher);
  });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const c of conns) c.destroy();
    });
  return new Promise((resolve, reject) => {
    server.once('error', (e: Error) => reject(listenError('tcp', address, port, e)));
    server.listen({ host: address, port, exclusive: false }, () => {
      server.removeAllListeners('error');
      resolve({ server, close });
    });
  });
}

function serveConnection(sock: Socket, dispatcher: Dispatcher): void {
  const peer: Peer = {
    proto: 'tcp',
    remoteAddress: sock.remoteAddress ?? '',
    remotePort: sock.remotePort ?? 0,
    localAddress: sock.localAddress ?? '',
    localPort: sock.localPort ?? 0,
  };
  let pending: Buffer = Buffer.alloc(0);
  let inFlight = 0;
  let paused = false;
  sock.setTimeout(IDLE_MS, () => sock.destroy());
  sock.on('error', () => sock.destroy());

  // Reading resumes only when both reasons to pause are gone: too many
  // queries in flight, and replies the client has not read yet. Queries
  // already received but over the limit wait in `pending` until then.
  const resumeIfClear = (): void => {
    if (!paused || inFlight >= MAX_IN_FLIGHT || sock.writableNeedDrain) return;
    paused = false;
    dispatchPending();
    if (!paused) sock.resume();
  };
  sock.on('drain', resumeIfClear);

  const send = (msg: Buffer | null): void => {
    inFlight--;
    if (sock.destroyed) return;
    let drained = true;
    if (msg !== null) {
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(msg.length, 0);
      sock.cork();
      sock.write(len);
      drained = sock.write(msg);
      sock.uncork();
    }
    if (!drained && !paused) {
      paused = true;
      sock.pause();
    } else {
      resumeIfClear();
    }
  };
  const reply: ReplyTo = { send };

  const dispatchPending = (): void => {
    let off = 0;
    while (pending.length - off >= 2 && inFlight < MAX_IN_FLIGHT) {
      const len = pending.readUInt16BE(off);
      if (pending.length - off - 2 < len) break;
      // Copy the message out: the chunk buffer is reused when we slice past it.
      const msg = Buffer.from(pending.subarray(off + 2, off + 2 + len));
      off += 2 + len;
      inFlight++;
      if (!dispatcher.handle(msg, peer, reply)) inFlight--;
    }
    pending = off === pending.length ? Buffer.alloc(0) : pending.subarray(off);
    if (inFlight >= MAX_IN_FLIGHT && !paused) {
      paused = true;
      sock.pause();
    }
  };

  sock.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    dispatchPending();
  });
}
