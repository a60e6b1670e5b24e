// The optional native addon behind the batched UDP path (native/udp-batch):
// built at install when a compiler and the Node headers are there, absent
// otherwise. Loading it is the only place that decides which one it is.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../version.js';

/** A bound socket the addon polls; the buffers are shared with it for the socket's life. */
export interface AddonSocket {
  handle: unknown;
  /** `batch` slots of `slot` bytes: datagram i at i × slot. */
  recv: Buffer;
  /** `batch` records of `metaSize` bytes: u16 length, u16 port, u8 flags, u8 address length, address text. */
  meta: Buffer;
  /** `batch` slots of `slot` bytes for the replies written during a batch. */
  send: Buffer;
  /** `batch` records of 4 bytes: u16 index of the datagram answered, u16 reply length. */
  smeta: Buffer;
  address: string;
  port: number;
  batch: number;
  slot: number;
  metaSize: number;
}

export interface UdpAddon {
  /** Binds; `onBatch(n)` is called with n datagrams received and returns how many replies it wrote. */
  open(family: 4 | 6, address: string, port: number, reusePort: boolean, rcvbuf: number, sndbuf: number, onBatch: (n: number) => number): AddonSocket;
  /** One datagram outside a batch; false when it could not be sent (full send buffer, bad address). */
  sendTo(handle: unknown, msg: Buffer, address: string, port: number): boolean;
  /** Drops since the process started, over every socket it opened. */
  stats(): { truncated: number; sendFailed: number };
  /** Stops receiving; `onClosed` runs once the descriptor is closed and the port free. */
  close(handle: unknown, onClosed?: () => void): void;
}

export const ADDON_PATH = fileURLToPath(new URL('native/udp-batch/build/Release/udp_batch.node', PACKAGE_ROOT));

let loaded: { addon: UdpAddon } | { error: string } | undefined;

/** The addon, or why it is not there (not built: no compiler at install; or it failed to load). */
export function loadUdpAddon(): { addon: UdpAddon } | { error: string } {
  if (!loaded) {
    try {
      loaded = { addon: createRequire(import.meta.url)(ADDON_PATH) as UdpAddon };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      loaded = {
        error:
          code === 'MODULE_NOT_FOUND'
            ? `${ADDON_PATH} is not built (npm ci builds it when a C compiler and the Node headers are installed)`
            : (e as Error).message,
      };
    }
  }
  return loaded;
}
