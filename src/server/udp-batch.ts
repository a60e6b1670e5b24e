// UDP listener on the native addon: datagrams arrive in batches (recvmmsg),
// each batch is one call from the addon, and every reply written while that
// call runs goes back in one sendmmsg. A reply that comes later (forward, a
// cache miss that waits) or does not fit a slot is sent on its own.

import { isIPv6 } from 'node:net';
import type { Peer } from '../dns/request.js';
import type { Dispatcher } from './dispatch.js';
import { listenError } from './listen-error.js';
import type { AddonSocket, UdpAddon } from './udp-addon.js';
import { SOCKET_BUFFER_BYTES, type UdpListener } from './udp.js';

/** Meta record flag: the datagram was larger than a slot and arrived cut; it is dropped. */
const FLAG_TRUNCATED = 1;

export function listenUdpBatch(addon: UdpAddon, address: string, port: number, dispatcher: Dispatcher, reusePort: boolean): UdpListener {
  // The socket's buffers are only read inside onBatch, which the addon calls once `open` has returned.
  let sock!: AddonSocket;
  let inBatch = false;
  let batchId = 0;
  let replies = 0;
  let localAddress = '';
  let localPort = 0;

  const receive = (i: number): void => {
    const { meta, recv, slot } = sock;
    const m = i * sock.metaSize;
    if ((meta[m + 4]! & FLAG_TRUNCATED) !== 0) return;
    const len = meta.readUInt16LE(m);
    const remotePort = meta.readUInt16LE(m + 2);
    const remoteAddress = meta.toString('latin1', m + 6, m + 6 + meta[m + 5]!);
    // A copy: the slot is overwritten by the next batch, and a request keeps its wire bytes.
    const wire = Buffer.allocUnsafe(len);
    recv.copy(wire, 0, i * slot, i * slot + len);
    const peer: Peer = { proto: 'udp', remoteAddress, remotePort, localAddress, localPort };
    const batch = batchId;
    dispatcher.handle(wire, peer, (out) => {
      if (out === null) return;
      if (inBatch && batch === batchId && out.length <= slot && replies < sock.batch) {
        out.copy(sock.send, replies * slot);
        sock.smeta.writeUInt16LE(i, replies * 4);
        sock.smeta.writeUInt16LE(out.length, replies * 4 + 2);
        replies++;
      } else {
        addon.sendTo(sock.handle, out, remoteAddress, remotePort);
      }
    });
  };

  const onBatch = (n: number): number => {
    batchId++;
    replies = 0;
    inBatch = true;
    try {
      for (let i = 0; i < n; i++) receive(i);
    } finally {
      inBatch = false;
    }
    return replies;
  };

  try {
    sock = addon.open(isIPv6(address) ? 6 : 4, address, port, reusePort, SOCKET_BUFFER_BYTES, SOCKET_BUFFER_BYTES, onBatch);
  } catch (e) {
    throw listenError('udp', address, port, e as Error);
  }
  localAddress = sock.address;
  localPort = sock.port;
  let closed: Promise<void> | undefined;
  return {
    path: 'batch',
    address: () => ({ address: localAddress, port: localPort }),
    close: () => (closed ??= new Promise((resolve) => addon.close(sock.handle, resolve))),
  };
}
