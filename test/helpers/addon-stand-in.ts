// Stands in for native/udp-batch in-process: the same shared buffers, with
// batches handed to the listener by hand (fill, then onBatch) and the
// replies read back from the send slots. For tests of the batch listener
// (src/server/udp-batch.ts) and for bench/chain.ts.

import type { AddonSocket, UdpAddon } from '../../src/server/udp-addon.js';

// The addon's shared-buffer layout (native/udp-batch/udp_batch.c: BATCH, SLOT, META).
export const BATCH = 64;
export const SLOT = 4096;
const META = 64;
const SMETA = 4;
export const CLIENT = '127.0.0.1';
export const CLIENT_PORT = 40000;

/** A reply sent outside its batch, as sendTo got it. */
export interface LateReply {
  msg: Buffer;
  address: string;
  port: number;
}

export class StandInAddon implements UdpAddon {
  sock!: AddonSocket;
  onBatch!: (n: number) => number;
  /** Replies sent outside their batch (forwarded, or too late for it), copied. */
  readonly late: LateReply[] = [];

  open(_family: 4 | 6, address: string, port: number, _reusePort: boolean, _rcvbuf: number, _sndbuf: number, onBatch: (n: number) => number): AddonSocket {
    this.onBatch = onBatch;
    this.sock = {
      handle: {},
      recv: Buffer.alloc(BATCH * SLOT),
      meta: Buffer.alloc(BATCH * META),
      send: Buffer.alloc(BATCH * SLOT),
      smeta: Buffer.alloc(BATCH * SMETA),
      address,
      port,
      batch: BATCH,
      slot: SLOT,
      metaSize: META,
    };
    for (let i = 0; i < BATCH; i++) this.from(i, CLIENT, CLIENT_PORT);
    return this.sock;
  }

  sendTo(_handle: unknown, msg: Buffer, address: string, port: number): boolean {
    this.late.push({ msg: Buffer.from(msg), address, port });
    return true;
  }

  stats(): { truncated: number; sendFailed: number } {
    return { truncated: 0, sendFailed: 0 };
  }

  close(_handle: unknown, onClosed?: () => void): void {
    onClosed?.();
  }

  /** Sets datagram `i`'s source, as the addon writes it (address text, port). */
  from(i: number, address: string, port: number): void {
    const meta = this.sock.meta;
    meta.writeUInt16LE(port, i * META + 2);
    meta[i * META + 5] = address.length;
    meta.write(address, i * META + 6, 'latin1');
  }

  /** Writes `n` queries, from `from` on (wrapping around), into the receive slots, as recvmmsg would. */
  fill(queries: readonly Buffer[], from = 0, n = queries.length): void {
    const { recv, meta } = this.sock;
    for (let i = 0; i < n; i++) {
      const q = queries[(from + i) % queries.length]!;
      recv.set(q, i * SLOT);
      meta.writeUInt16LE(q.length, i * META);
    }
  }

  /**
   * The first `count` send records (what onBatch returned) as the addon reads
   * them: the datagram each answers and the bytes sent; a record of length 0
   * is skipped by the addon, so `msg` is null.
   */
  sent(count: number): Array<{ index: number; msg: Buffer | null }> {
    const { send, smeta } = this.sock;
    return Array.from({ length: count }, (_, k) => {
      const len = smeta.readUInt16LE(k * SMETA + 2);
      return { index: smeta.readUInt16LE(k * SMETA), msg: len === 0 ? null : send.subarray(k * SLOT, k * SLOT + len) };
    });
  }
}
