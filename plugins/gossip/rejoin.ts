// Getting (back) into the cluster: the first join retried with backoff until
// a seed answers (seeds may start after us), and serf's reconnect: failed
// members are tried again now and then, so a healed partition merges back
// even once both sides have forgotten each other.

import { joinHostPort } from '../../src/util/hostport.js';
import type { Logger } from '../../src/gossip/config.js';
import type { Memberlist, NodeInfo } from '../../src/gossip/memberlist.js';
import { printable } from '../../src/gossip/quote.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/**
 * Calls (and awaits) `onJoined` after the first successful join; retries with exponential backoff until then or `cancel()`.
 * `firstAttempt` settles when the first try has answered or failed.
 */
export function joinWithRetry(
  ml: Memberlist,
  seeds: readonly string[],
  log: Logger,
  onJoined: (answered: number) => void | Promise<void>,
): { cancel(): void; firstAttempt: Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  let first: () => void = () => {};
  const firstAttempt = new Promise<void>((resolve) => (first = resolve));
  const attempt = (delay: number): void => {
    const p = ml.join(seeds).then(onJoined, (err: Error) => {
      if (cancelled) return;
      log.warn(`join failed, retrying in ${delay / 1000}s: ${err.message}`);
      timer = setTimeout(() => attempt(Math.min(delay * 2, MAX_RETRY_MS)), delay);
    });
    void p.finally(first);
  };
  attempt(FIRST_RETRY_MS);
  return {
    firstAttempt,
    cancel() {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}

interface Failed {
  address: string;
  since: number;
}

export class Reconnector {
  private readonly failed = new Map<string, Failed>();
  private timer: NodeJS.Timeout | undefined;
  private readonly onDead = (n: NodeInfo): void => void this.failed.set(n.name, { address: joinHostPort(n.addr, n.port), since: Date.now() });
  private readonly onBack = (n: NodeInfo): void => void this.failed.delete(n.name);

  constructor(
    private readonly ml: Memberlist,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.ml.on('dead', this.onDead);
    // a member that left on purpose is not chased
    for (const e of ['join', 'alive', 'leave'] as const) this.ml.on(e, this.onBack);
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.ml.off('dead', this.onDead);
    for (const e of ['join', 'alive', 'leave'] as const) this.ml.off(e, this.onBack);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.tryOne();
      this.schedule();
    }, this.intervalMs);
  }

  private tryOne(): void {
    const now = Date.now();
    for (const [name, f] of this.failed) if (now - f.since > this.timeoutMs) this.failed.delete(name);
    const names = [...this.failed.keys()];
    if (names.length === 0) return;
    const name = names[Math.floor(Math.random() * names.length)]!;
    const { address } = this.failed.get(name)!;
    this.log.info(`attempting reconnect to ${printable(name)} ${address}`);
    this.ml.join([address]).catch(() => {});
  }
}
