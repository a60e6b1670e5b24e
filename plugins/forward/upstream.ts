// One upstream server: its UDP socket and TCP pool, and its health. Health
// is in band as in CoreDNS: a failed query starts a background probe that
// repeats every health_check interval until the upstream answers anything.

import type { Address } from './address.js';
import { UdpChannel } from './udp.js';
import { TcpPool } from './tcp.js';
import { nameToWire } from '../../src/dns/wire.js';
import { Flag, Type } from '../../src/dns/constants.js';
import { buildQuery } from './message.js';

export type Transport = 'udp' | 'tcp';

export interface HealthOptions {
  intervalMs: number;
  /** Sets RD on the probe (`no_rec` clears it). */
  recursion: boolean;
  /** The probe asks `<domain> IN NS`. */
  domain: string;
}

export interface UpstreamOptions {
  expireMs: number;
  forceTcp: boolean;
  /** 0 disables health checking: the upstream is never marked down. */
  maxFails: number;
  health: HealthOptions;
}

export interface HealthEvents {
  probeFailed(u: Upstream): void;
  markedDown(u: Upstream): void;
  recovered(u: Upstream): void;
}

/** CoreDNS's health check read timeout. */
const PROBE_TIMEOUT_MS = 1000;

export class Upstream {
  /** Consecutive failed health probes; reset by any probe reply. */
  fails = 0;
  private readonly udp: UdpChannel;
  private readonly tcp: TcpPool;
  private readonly probeQuery: Buffer;
  private probing = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly addr: Address,
    private readonly opts: UpstreamOptions,
    private readonly events: HealthEvents,
  ) {
    this.udp = new UdpChannel(addr);
    this.tcp = new TcpPool(addr, opts.expireMs);
    this.probeQuery = buildQuery(nameToWire(opts.health.domain), Type.NS, opts.health.recursion ? Flag.RD : 0);
  }

  get label(): string {
    return this.addr.label;
  }

  get down(): boolean {
    return this.opts.maxFails > 0 && this.fails >= this.opts.maxFails;
  }

  exchange(query: Buffer, transport: Transport, timeoutMs: number): Promise<Buffer> {
    return transport === 'udp' ? this.udp.exchange(query, timeoutMs) : this.tcp.exchange(query, timeoutMs);
  }

  /** Starts probing unless a probe loop already runs (or health checking is off). */
  healthcheck(): void {
    if (this.opts.maxFails === 0 || this.probing || this.closed) return;
    this.probing = true;
    void this.probe();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.probeTimer);
    this.udp.close();
    this.tcp.close();
  }

  private async probe(): Promise<void> {
    try {
      await this.exchange(this.probeQuery, this.opts.forceTcp ? 'tcp' : 'udp', PROBE_TIMEOUT_MS);
    } catch {
      if (this.closed) return;
      this.fails++;
      this.events.probeFailed(this);
      if (this.fails === this.opts.maxFails) this.events.markedDown(this);
      this.probeTimer = setTimeout(() => void this.probe(), this.opts.health.intervalMs);
      this.probeTimer.unref();
      return;
    }
    const wasDown = this.down;
    this.fails = 0;
    this.probing = false;
    if (wasDown) this.events.recovered(this);
  }
}
