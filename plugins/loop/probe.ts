// Sends the probe to our own listener until one gets an answer, for at most
// 30 s after start (the listener may not be up yet): 2 s per try, 1 s apart.

import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import dnsPacket from 'dns-packet';
import type { LoopState } from './handler.js';

const DEADLINE_MS = 30_000;
const TRY_TIMEOUT_MS = 2_000;
const RETRY_MS = 1_000;

/** `<rand>.<rand>.<zone>` with two random 62-bit decimal labels. */
export function probeName(zone: string): string {
  const label = (): string => (randomBytes(8).readBigUInt64BE() >> 2n).toString();
  return `${label()}.${label()}.${zone === '.' ? '' : zone}`;
}

export class Prober {
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private cancel: (() => void) | undefined;

  constructor(
    private readonly state: LoopState,
    private readonly host: string,
    private readonly port: number,
  ) {}

  start(): void {
    const deadline = Date.now() + DEADLINE_MS;
    const attempt = (): void => {
      if (this.stopped) return;
      if (Date.now() >= deadline) {
        this.state.off = true;
        return;
      }
      this.exchange((answered) => {
        if (answered) {
          this.state.off = true;
          return;
        }
        this.state.seen = 0;
        this.timer = setTimeout(attempt, RETRY_MS).unref();
      });
    };
    this.timer = setTimeout(attempt, 0).unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.cancel?.();
  }

  /** One query; `done(true)` on any reply with our id, `done(false)` on error or timeout. */
  private exchange(done: (answered: boolean) => void): void {
    const id = randomBytes(2).readUInt16BE();
    const query = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'HINFO', name: this.state.qname, class: 'IN' }],
    });
    const sock = createSocket(isIPv6(this.host) ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (answered: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      this.cancel = undefined;
      sock.close();
      if (!this.stopped) done(answered);
    };
    const timeout = setTimeout(() => finish(false), TRY_TIMEOUT_MS).unref();
    this.cancel = () => finish(false);
    sock.on('error', () => finish(false));
    sock.on('message', (msg) => {
      if (msg.length >= 2 && msg.readUInt16BE(0) === id) finish(true);
    });
    sock.send(query, this.port, this.host);
  }
}
