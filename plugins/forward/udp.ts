// UDP to one upstream over a pool of short-lived sockets (RFC 5452): each
// query takes one of SLOTS sockets at random; each socket is on its own
// random ephemeral port and carries at most USES queries, then a socket on a
// fresh port takes its slot; sockets idle for IDLE_MS close. A spoofer must
// guess the port as well as the 16-bit ID, and a port learnt from one reply
// is gone after two more queries. A socket per query would cost about 17 µs
// of CPU each (open, connect, close: as much as the rest of a forwarded
// query); USES spreads that over three. Sockets are connected, so the kernel
// drops datagrams from anyone but the upstream; a reply must still match its
// query's ID and question.

import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import type { Address } from './address.js';
import { UpstreamError } from './errors.js';
import { answers, randomId } from './message.js';

/** Sockets a query picks from; a power of two, so a random 16-bit number picks uniformly. */
export const SLOTS = 64;
/** Queries one socket (one source port) carries before it is replaced: 1000 queries use over 300 ports. */
export const USES = 3;
/** A socket no query has used for this long is closed. */
const IDLE_MS = 1000;
/** Past this many queries in flight per upstream (about a third as many sockets), refuse rather than run out of descriptors. */
export const MAX_IN_FLIGHT = 4096;

interface Pending {
  sent: Buffer;
  resolve(reply: Buffer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** The upstream is an IP literal: skip the dns.lookup that connect would do. */
function literalLookup(address: string, _opts: unknown, callback: (err: null, address: string, family: number) => void): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}

interface PoolEvents {
  failed(s: PortSocket, err: Error): void;
  closed(s: PortSocket): void;
}

/** One socket of the pool: its queries in flight, matched by ID. */
class PortSocket {
  readonly pending = new Map<number, Pending>();
  uses = 0;
  lastUsed = 0;
  /** Taken out of its slot (used up, idle, or failed): closes once nothing is in flight. */
  retired = false;
  private readonly socket: Socket;
  /** Datagrams waiting for connect to finish (Node refuses to send before). */
  private queued: Buffer[] | undefined = [];
  private closed = false;

  constructor(
    readonly slot: number,
    addr: Address,
    options: SocketOptions,
    private readonly events: PoolEvents,
  ) {
    this.socket = createSocket(options);
    this.socket.on('message', (msg) => this.receive(msg));
    // ECONNREFUSED is the ICMP "port unreachable" for one of our datagrams: nobody listens there.
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.events.failed(this, new UpstreamError(`${addr.label}: ${err.code ?? err.message}`)));
    this.socket.connect(addr.port, addr.host, () => {
      const queued = this.queued;
      this.queued = undefined;
      if (!this.closed) for (const msg of queued ?? []) this.socket.send(msg);
    });
    this.socket.unref();
  }

  send(id: number, p: Pending): void {
    this.pending.set(id, p);
    if (this.queued) this.queued.push(p.sent);
    else this.socket.send(p.sent);
  }

  /** Settles one query (a reply, or `err`), and closes a retired socket with nothing left in flight. */
  settle(id: number, err: Error | null, reply?: Buffer): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(reply!);
    if (this.retired && this.pending.size === 0) this.close();
  }

  /** Fails everything in flight and closes. */
  fail(err: Error): void {
    this.retired = true;
    for (const id of [...this.pending.keys()]) this.settle(id, err);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    this.events.closed(this);
  }

  private receive(msg: Buffer): void {
    if (msg.length < 12) return;
    const id = msg.readUInt16BE(0);
    const p = this.pending.get(id);
    if (p && answers(p.sent, msg)) this.settle(id, null, msg);
  }
}

export class UdpChannel {
  private readonly slots: Array<PortSocket | undefined> = new Array(SLOTS);
  private readonly options: SocketOptions;
  private inFlight = 0;
  private open = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  /** Retired sockets that still have queries in flight. */
  private readonly draining = new Set<PortSocket>();

  constructor(private readonly addr: Address) {
    this.options = { type: addr.family === 6 ? 'udp6' : 'udp4', lookup: literalLookup };
  }

  /** Sends `query` (copied, with a fresh random ID) from a random socket of the pool; resolves with the matching reply. */
  exchange(query: Buffer, timeoutMs: number): Promise<Buffer> {
    // A query still running in a config that was reloaded away must not open a socket nobody closes.
    if (this.closed) return Promise.reject(new UpstreamError(`${this.addr.label}: closed`));
    if (this.inFlight >= MAX_IN_FLIGHT) return Promise.reject(new UpstreamError(`${this.addr.label}: too many queries in flight`));
    const slot = randomId() & (SLOTS - 1);
    const s = this.socketAt(slot);
    const sent = Buffer.from(query);
    let id = randomId();
    while (s.pending.has(id)) id = randomId();
    sent.writeUInt16BE(id, 0);
    this.inFlight++;
    const reply = new Promise<Buffer>((resolve, reject) => {
      const done = (): void => void this.inFlight--;
      const timer = setTimeout(() => s.settle(id, new UpstreamError(`${this.addr.label}: udp read timeout after ${timeoutMs}ms`)), timeoutMs);
      s.send(id, {
        sent,
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
        timer,
      });
    });
    // Used up: the next query in this slot gets a socket on a fresh port; this one drains.
    if (++s.uses >= USES) this.retire(slot);
    return reply;
  }

  /** Fails every query in flight and refuses new ones. */
  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (let i = 0; i < SLOTS; i++) this.retire(i);
    for (const s of [...this.draining]) s.fail(new UpstreamError(`${this.addr.label}: closed`));
  }

  /** The slot's socket, or a new one on a fresh port when the slot is empty. */
  private socketAt(slot: number): PortSocket {
    let s = this.slots[slot];
    if (!s) {
      s = new PortSocket(slot, this.addr, this.options, this.events);
      this.slots[slot] = s;
      if (this.open++ === 0) this.startSweeping();
    }
    s.lastUsed = Date.now();
    return s;
  }

  /** Empties a slot; its socket closes once its last query settles. */
  private retire(slot: number): void {
    const s = this.slots[slot];
    if (!s) return;
    this.slots[slot] = undefined;
    this.open--;
    s.retired = true;
    if (s.pending.size === 0) s.close();
    else this.draining.add(s);
  }

  private readonly events: PoolEvents = {
    failed: (s, err) => {
      if (this.slots[s.slot] === s) this.retire(s.slot);
      s.fail(err);
    },
    closed: (s) => void this.draining.delete(s),
  };

  /** Closes sockets nobody has used for IDLE_MS; runs only while some are open. */
  private startSweeping(): void {
    this.sweeper = setInterval(() => {
      const cutoff = Date.now() - IDLE_MS;
      for (let i = 0; i < SLOTS; i++) {
        const s = this.slots[i];
        if (s && s.pending.size === 0 && s.lastUsed < cutoff) this.retire(i);
      }
      if (this.open === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, IDLE_MS);
    this.sweeper.unref();
  }
}
