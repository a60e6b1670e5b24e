// Transmit-limited broadcast queue (memberlist queue.go): each message goes
// out at most RetransmitMult*ceil(log10(n+1)) times, least-sent first, and a
// newer message about the same node replaces the older one.

export interface Broadcast {
  /** Messages about the same name invalidate each other; null never does. */
  name: string | null;
  msg: Buffer;
  /** Called once the message has been sent its last time or was replaced. */
  finished?: () => void;
}

interface Entry extends Broadcast {
  transmits: number;
  id: number;
}

/**
 * Broadcast names that keep a kind of message that no name identifies (a
 * relayed serf event or query) to `depth` queued at once: each name replaces
 * the message queued `depth` names earlier if it is still queued, as serf
 * prunes its event and query queues to the newest MaxQueueDepth.
 */
export class RotatingNames {
  private sent = 0;

  constructor(
    private readonly prefix: string,
    private readonly depth: number,
  ) {}

  next(): string {
    return `${this.prefix}:${this.sent++ % this.depth}`;
  }
}

export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

export class TransmitLimitedQueue {
  private entries: Entry[] = [];
  private nextId = 0;

  constructor(
    private readonly retransmitMult: number,
    private readonly numNodes: () => number,
  ) {}

  queue(b: Broadcast): void {
    if (b.name !== null) {
      for (const e of this.entries.filter((x) => x.name === b.name)) e.finished?.();
      this.entries = this.entries.filter((x) => x.name !== b.name);
    }
    this.entries.push({ ...b, transmits: 0, id: this.nextId++ });
  }

  /** Picks messages that fit in `limit` bytes, each costing `overhead` extra. */
  getBroadcasts(overhead: number, limit: number): Buffer[] {
    if (this.entries.length === 0) return [];
    const max = retransmitLimit(this.retransmitMult, this.numNodes());
    // fewest transmits first, newest first among equals
    const order = [...this.entries].sort((a, b) => a.transmits - b.transmits || b.id - a.id);
    const out: Buffer[] = [];
    let used = 0;
    for (const e of order) {
      const cost = overhead + e.msg.length;
      if (used + cost > limit) continue;
      used += cost;
      out.push(e.msg);
      e.transmits++;
      if (e.transmits >= max) {
        this.entries = this.entries.filter((x) => x !== e);
        e.finished?.();
      }
    }
    return out;
  }

  size(): number {
    return this.entries.length;
  }

  reset(): void {
    for (const e of this.entries) e.finished?.();
    this.entries = [];
  }
}
