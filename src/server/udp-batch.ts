// UDP listener on the native addon: datagrams arrive in batches (recvmmsg),
// each batch is one call from the addon, and every reply written while that
// call runs goes back in one sendmmsg. A reply that comes later (forward, a
// cache miss that waits) or does not fit a slot is sent on its own.
//
// Nothing is copied that need not be: a query is read where it arrived, in
// its receive slot (the dispatcher copies it only when the chain keeps it
// past the batch), and a memoised or cached reply is restamped straight into
// the send slot it leaves from (ResponseWriter#sendBuffer).

import { isIPv6 } from 'node:net';
import type { Peer } from '../dns/request.js';
import type { Dispatcher, ReplyTo } from './dispatch.js';
import { listenError } from './listen-error.js';
import type { AddonSocket, UdpAddon } from './udp-addon.js';
import { SOCKET_BUFFER_BYTES, type UdpListener } from './udp.js';
import type { Latin1Buffer } from '../util/buffers.js';

/** Meta record flag: the datagram was larger than a slot and arrived cut; it is dropped. */
const FLAG_TRUNCATED = 1;

/** Bytes of one send meta record: u16 index of the datagram answered, u16 reply length. */
const SMETA_SIZE = 4;

/** Where a meta record's source address text starts (after u16 length, u16 port, u8 flags, u8 text length). */
const ADDRESS_AT = 6;

/** The listener's state between the addon's calls: which batch is being answered, which send slots are taken. */
class Batches {
  // Only read inside onBatch, which the addon calls once `open` has returned.
  sock!: AddonSocket;
  localAddress = '';
  localPort = 0;
  /** Counts batches, so a reply can tell whether the batch it came in is still being answered. */
  batchId = 0;
  inBatch = false;
  /** Send slots taken in this batch: the count onBatch returns to the addon. */
  replies = 0;
  /**
   * The last source address read, as text and as the addon wrote it: most
   * datagrams come from a few clients, and making the text costs more than
   * comparing a few bytes.
   */
  private lastAddress = '';
  /** Its bytes, the first lastAddressLength of a scratch as long as a meta record's u8 length can say. */
  private readonly lastAddressBytes = Buffer.alloc(256);
  private lastAddressLength = -1;

  constructor(
    readonly addon: UdpAddon,
    private readonly dispatcher: Dispatcher,
  ) {}

  onBatch(n: number): number {
    this.batchId++;
    this.replies = 0;
    this.inBatch = true;
    try {
      for (let i = 0; i < n; i++) this.receive(i);
    } finally {
      this.inBatch = false;
    }
    return this.replies;
  }

  private receive(i: number): void {
    const { meta, recv, slot } = this.sock;
    const m = i * this.sock.metaSize;
    if ((meta[m + 4]! & FLAG_TRUNCATED) !== 0) return;
    const len = meta.readUInt16LE(m);
    // The addon never reports more than a slot; the datagram is read in place, so that is checked here too.
    if (len > slot) return;
    const remotePort = meta.readUInt16LE(m + 2);
    const addressLength = meta[m + 5]!;
    if (ADDRESS_AT + addressLength > this.sock.metaSize) return;
    const remoteAddress = this.addressAt(m + ADDRESS_AT, addressLength);
    const peer: Peer = { proto: 'udp', remoteAddress, remotePort, localAddress: this.localAddress, localPort: this.localPort };
    this.dispatcher.handle(recv.subarray(i * slot, i * slot + len), peer, new BatchReply(this, i, remoteAddress, remotePort));
  }

  /** The address text `length` bytes long at `at` in the meta buffer. */
  private addressAt(at: number, length: number): string {
    const meta = this.sock.meta;
    const last = this.lastAddressBytes;
    if (length === this.lastAddressLength) {
      let i = 0;
      while (i < length && meta[at + i] === last[i]) i++;
      if (i === length) return this.lastAddress;
    }
    for (let i = 0; i < length; i++) last[i] = meta[at + i]!;
    this.lastAddressLength = length;
    this.lastAddress = (meta as Latin1Buffer).latin1Slice(at, at + length);
    return this.lastAddress;
  }

  /**
   * Takes the next send slot for datagram `index`'s reply of `length` bytes
   * (0: not sent unless the length is set later); -1 when the datagram's
   * batch is over, the reply does not fit a slot, or every slot is taken.
   */
  take(batch: number, index: number, length: number): number {
    const { smeta, slot } = this.sock;
    if (!this.inBatch || batch !== this.batchId || length > slot || this.replies >= this.sock.batch) return -1;
    const k = this.replies++;
    smeta.writeUInt16LE(index, k * SMETA_SIZE);
    smeta.writeUInt16LE(length, k * SMETA_SIZE + 2);
    return k;
  }

  /** Sets the length of the reply built in send slot `k` (taken with length 0), so the addon sends it. */
  commit(k: number, length: number): void {
    this.sock.smeta.writeUInt16LE(length, k * SMETA_SIZE + 2);
  }
}

/** Where one datagram's reply goes: a send slot of its batch, or a datagram of its own when later. */
class BatchReply implements ReplyTo {
  readonly lendsWire = true;
  private readonly batch: number;
  /** The send slot room() took and the view of it handed out, if any. */
  private roomSlot = -1;
  private roomView: Buffer | undefined;

  constructor(
    private readonly batches: Batches,
    private readonly index: number,
    private readonly address: string,
    private readonly port: number,
  ) {
    this.batch = batches.batchId;
  }

  room(length: number): Buffer | undefined {
    const b = this.batches;
    // One room per reply. The slot is taken now, unsent until send() gets this view, so no other reply can land in it.
    if (this.roomView !== undefined || length === 0 || length > b.sock.slot) return undefined;
    const k = b.take(this.batch, this.index, 0);
    if (k < 0) return undefined;
    this.roomSlot = k;
    return (this.roomView = b.sock.send.subarray(k * b.sock.slot, k * b.sock.slot + length));
  }

  send(out: Buffer | null): void {
    if (out === null) return;
    const b = this.batches;
    if (out === this.roomView) {
      // room() is for a reply written at once; sent after its batch, the slot may hold another batch's reply.
      if (!b.inBatch || this.batch !== b.batchId) throw new Error('udp-batch: a reply built in a send slot was sent after its batch');
      b.commit(this.roomSlot, out.length);
      return;
    }
    const k = b.take(this.batch, this.index, out.length);
    if (k >= 0) b.sock.send.set(out, k * b.sock.slot);
    else b.addon.sendTo(b.sock.handle, out, this.address, this.port);
  }
}

export function listenUdpBatch(addon: UdpAddon, address: string, port: number, dispatcher: Dispatcher, reusePort: boolean): UdpListener {
  const batches = new Batches(addon, dispatcher);
  let sock: AddonSocket;
  try {
    sock = addon.open(isIPv6(address) ? 6 : 4, address, port, reusePort, SOCKET_BUFFER_BYTES, SOCKET_BUFFER_BYTES, (n) => batches.onBatch(n));
  } catch (e) {
    throw listenError('udp', address, port, e as Error);
  }
  batches.sock = sock;
  batches.localAddress = sock.address;
  batches.localPort = sock.port;
  let closed: Promise<void> | undefined;
  return {
    path: 'batch',
    address: () => ({ address: batches.localAddress, port: batches.localPort }),
    close: () => (closed ??= new Promise((resolve) => addon.close(sock.handle, resolve))),
  };
}
