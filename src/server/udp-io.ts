// Which UDP I/O the DNS listeners use: `-udp.io auto|batch|dgram` (default
// $PODSWARM_UDP_IO, else auto). auto takes the native addon's batches when it
// is built and node:dgram otherwise; batch and dgram force one, and batch
// without the addon refuses to start rather than quietly run slower.

import { Gauge, Counter } from 'prom-client';
import type { App } from '../app.js';
import type { Dispatcher } from './dispatch.js';
import { loadUdpAddon, type UdpAddon } from './udp-addon.js';
import { listenUdpBatch } from './udp-batch.js';
import { listenUdp, type UdpListener, type UdpPath } from './udp.js';

export const UDP_IO_MODES = ['auto', 'batch', 'dgram'] as const;
export type UdpIoMode = (typeof UDP_IO_MODES)[number];

export function isUdpIoMode(v: string): v is UdpIoMode {
  return (UDP_IO_MODES as readonly string[]).includes(v);
}

export interface UdpIo {
  path: UdpPath;
  /** Set on the batch path. */
  addon?: UdpAddon;
  /** On the dgram path under auto: why the addon is not used. */
  reason?: string;
}

/** Resolves `mode` on this machine; throws when batch is forced and the addon does not load. */
export function chooseUdpIo(mode: UdpIoMode): UdpIo {
  if (mode === 'dgram') return { path: 'dgram', reason: 'forced by -udp.io dgram' };
  const r = loadUdpAddon();
  if ('addon' in r) return { path: 'batch', addon: r.addon };
  if (mode === 'batch') throw new Error(`-udp.io batch: the native UDP addon cannot be used: ${r.error}`);
  return { path: 'dgram', reason: r.error };
}

/**
 * Opens one UDP listener on the chosen path. In a `-workers` process the
 * addon binds its own socket with SO_REUSEPORT (the kernel spreads clients
 * over the workers); port 0 cannot be shared that way, so it stays on the
 * handle node:cluster shares.
 */
export function openUdpListener(io: UdpIo, app: App, address: string, port: number, dispatcher: Dispatcher): Promise<UdpListener> {
  const worker = app.options.role === 'worker';
  if (io.addon && !(worker && port === 0)) return Promise.resolve(listenUdpBatch(io.addon, address, port, dispatcher, worker));
  return listenUdp(address, port, dispatcher);
}

/** podswarm_udp_io_info{path}, from the listeners open at scrape time, and podswarm_udp_dropped_total{reason} on the batch path. */
export function registerUdpMetrics(app: App, io: UdpIo, listeners: () => Iterable<UdpListener>): void {
  app.metric(
    'podswarm_udp_io_info',
    (registers) =>
      new Gauge({
        name: 'podswarm_udp_io_info',
        help: 'UDP I/O path of the DNS listeners: batch (native recvmmsg/sendmmsg addon) or dgram (node:dgram).',
        labelNames: ['path'],
        registers,
        // Workers' series merge into the primary's /metrics: one process on a path says so, not a sum.
        aggregator: 'max',
        collect() {
          this.reset();
          for (const l of listeners()) this.set({ path: l.path }, 1);
        },
      }),
  );
  app.metric(
    'podswarm_udp_dropped_total',
    (registers) =>
      new Counter({
        name: 'podswarm_udp_dropped_total',
        help: 'UDP datagrams dropped by the batch path: truncated (larger than a receive slot), send_failed (refused by the kernel, e.g. a full send buffer).',
        labelNames: ['reason'],
        registers,
        collect() {
          const d = io.addon?.stats() ?? { truncated: 0, sendFailed: 0 };
          this.reset();
          this.inc({ reason: 'truncated' }, d.truncated);
          this.inc({ reason: 'send_failed' }, d.sendFailed);
        },
      }),
  );
}
