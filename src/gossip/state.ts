// SWIM state helpers (memberlist state.go, suspicion.go, awareness.go, util.go).
import { NodeStateType } from './messages.js';

export interface Member {
  name: string;
  /** 4- or 16-byte IP */
  addr: Buffer;
  port: number;
  meta: Buffer | null;
  state: NodeStateType;
  incarnation: number;
  /** Date.now() of the last state change. */
  stateChange: number;
  /** pmin, pmax, pcur, dmin, dmax, dcur */
  vsn: [number, number, number, number, number, number];
}

/** SuspicionMult * max(1, log10(n)) * interval, to the millisecond like Go. */
export function suspicionTimeout(suspicionMult: number, n: number, intervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return Math.floor((suspicionMult * Math.floor(nodeScale * 1000) * intervalMs) / 1000);
}

/** PushPullInterval scaled up once the cluster passes 32 nodes. */
export function pushPullScale(intervalMs: number, n: number): number {
  if (n <= 32) return intervalMs;
  return (Math.ceil(Math.log2(n) - Math.log2(32)) + 1) * intervalMs;
}

export function remainingSuspicionTime(n: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  const frac = Math.log(n + 1) / Math.log(k + 1);
  const raw = maxMs - frac * (maxMs - minMs);
  return Math.max(Math.floor(raw), minMs) - elapsedMs;
}

/**
 * Lifeguard suspicion timer: starts at max, shrinks towards min as
 * independent confirmations (up to k) arrive.
 */
export class Suspicion {
  private n = 0;
  private readonly confirmations = new Set<string>();
  private readonly start = Date.now();
  private timer: NodeJS.Timeout;
  private fired = false;

  constructor(
    from: string,
    private readonly k: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly onTimeout: (confirmations: number) => void,
  ) {
    this.confirmations.add(from);
    this.timer = setTimeout(() => this.fire(), k < 1 ? minMs : maxMs);
  }

  private fire(): void {
    if (this.fired) return;
    this.fired = true;
    this.onTimeout(this.n);
  }

  /** True when this is a new confirmation (worth re-gossiping). */
  confirm(from: string): boolean {
    if (this.n >= this.k || this.confirmations.has(from)) return false;
    this.confirmations.add(from);
    this.n++;
    const remaining = remainingSuspicionTime(this.n, this.k, Date.now() - this.start, this.minMs, this.maxMs);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), Math.max(0, remaining));
    return true;
  }

  cancel(): void {
    this.fired = true;
    clearTimeout(this.timer);
  }
}

/** Lifeguard local health: scales probe timing by (score + 1). */
export class Awareness {
  private score = 0;

  constructor(private readonly max: number) {}

  applyDelta(delta: number): void {
    this.score = Math.min(this.max - 1, Math.max(0, this.score + delta));
  }

  getHealthScore(): number {
    return this.score;
  }

  scaleTimeout(ms: number): number {
    return ms * (this.score + 1);
  }
}

/** Up to k random members passing the filter. */
export function kRandomMembers<T>(k: number, members: readonly T[], include: (m: T) => boolean): T[] {
  const pool = members.filter(include);
  shuffle(pool);
  return pool.slice(0, k);
}

export function shuffle<T>(a: T[]): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}
