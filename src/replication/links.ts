// One reliable outgoing queue per podswarm-dns peer. Entries for a peer
// gather for a moment (lingerMs) and go out in chunks over memberlist's
// stream (TCP) transport, one connection at a time per peer: a burst of
// changes becomes a few large messages instead of one message per change,
// a slow peer holds back only its own queue, and a newer entry for the same
// key replaces the queued one. A failed send drops what was queued for that
// peer: the next anti-entropy round with it finds and repairs the gap.
import { type CheckedEntry, encodeEntries } from './validate.js';

/** Sends one message to the peer named; rejects when it could not be delivered. */
export type SendFn = (peer: string, msg: Buffer) => Promise<void>;

export interface LinkOptions {
  /** How long entries gather before a send starts, and between sends that are not full; default 25 ms. */
  lingerMs?: number;
  /** Entries per message, so that no single message is long work for the receiver; default 256. */
  chunkEntries?: number;
  /** A send failed (for a debug line). */
  onError?: (peer: string, err: Error) => void;
}

interface Link {
  entries: Map<string, CheckedEntry>;
  control: Buffer[];
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
}

export class PeerLinks {
  private readonly links = new Map<string, Link>();
  private readonly lingerMs: number;
  private readonly chunk: number;
  private stopped = false;

  constructor(
    private readonly send: SendFn,
    private readonly opts: LinkOptions = {},
  ) {
    this.lingerMs = opts.lingerMs ?? 25;
    this.chunk = opts.chunkEntries ?? 256;
  }

  queueEntries(peer: string, entries: Iterable<CheckedEntry>): void {
    const link = this.link(peer);
    for (const e of entries) link.entries.set(`${e.owner}\n${e.key}`, e);
    this.kick(peer, link);
  }

  /** A control message (sum or digest); goes out before queued entries. */
  queueControl(peer: string, msg: Buffer): void {
    const link = this.link(peer);
    link.control.push(msg);
    this.kick(peer, link);
  }

  /** Entries and messages waiting for `peer` (for tests and metrics). */
  pending(peer: string): number {
    const link = this.links.get(peer);
    return link ? link.entries.size + link.control.length : 0;
  }

  drop(peer: string): void {
    const link = this.links.get(peer);
    if (!link) return;
    clearTimeout(link.timer);
    this.links.delete(peer);
  }

  stop(): void {
    this.stopped = true;
    for (const peer of [...this.links.keys()]) this.drop(peer);
  }

  private link(peer: string): Link {
    let link = this.links.get(peer);
    if (!link) this.links.set(peer, (link = { entries: new Map(), control: [], busy: false, timer: undefined }));
    return link;
  }

  private kick(peer: string, link: Link): void {
    if (this.stopped || link.busy || link.timer) return;
    link.timer = setTimeout(() => {
      link.timer = undefined;
      void this.drain(peer, link);
    }, this.lingerMs);
  }

  /**
   * Sends what is queued, a message at a time. A chunk that came out full
   * goes on at once; otherwise the link lingers again before the next send,
   * so a steady trickle of changes is batched too (at most one connection
   * per peer per lingerMs).
   */
  private async drain(peer: string, link: Link): Promise<void> {
    link.busy = true;
    try {
      while (!this.stopped && this.links.get(peer) === link) {
        const full = link.entries.size >= this.chunk;
        const msg = link.control.shift() ?? this.nextChunk(link);
        if (!msg) break;
        await this.send(peer, msg);
        if (!full && link.control.length === 0) break;
      }
    } catch (err) {
      this.opts.onError?.(peer, err as Error);
      link.entries.clear();
      link.control.length = 0;
    } finally {
      link.busy = false;
    }
    if (link.entries.size > 0 || link.control.length > 0) this.kick(peer, link);
  }

  private nextChunk(link: Link): Buffer | undefined {
    if (link.entries.size === 0) return undefined;
    const chunk: CheckedEntry[] = [];
    for (const [id, e] of link.entries) {
      chunk.push(e);
      link.entries.delete(id);
      if (chunk.length >= this.chunk) break;
    }
    return encodeEntries(chunk);
  }
}
