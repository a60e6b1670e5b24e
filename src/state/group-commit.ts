// Group commit: many writers, one durable write at a time. Each write
// snapshots the whole state when it starts, so every commit() made before a
// write starts is covered by it: a burst of 1,000 changes costs a handful of
// fsyncs, and nobody is told "stored" before a write that includes their
// change has completed.

interface Batch {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

export class GroupCommit {
  private writing: Promise<void> | undefined;
  private waiting: Batch | undefined;

  /** `write` must read the state it stores synchronously, before its first await. */
  constructor(private readonly write: () => Promise<void>) {}

  /** Resolves once a write that started after this call has completed; rejects with its error. */
  commit(): Promise<void> {
    const b = (this.waiting ??= batch());
    if (!this.writing) this.next();
    return b.promise;
  }

  /** Resolves when no write is running or waiting (for shutdown). */
  async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private next(): void {
    const b = this.waiting!;
    this.waiting = undefined;
    let started: Promise<void>;
    try {
      started = this.write();
    } catch (e) {
      started = Promise.reject(e);
    }
    this.writing = started.then(b.resolve, b.reject).finally(() => {
      this.writing = undefined;
      if (this.waiting) this.next();
    });
  }
}

function batch(): Batch {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A batch nobody awaits (a background commit) must not crash the process.
  promise.catch(() => {});
  return { promise, resolve, reject };
}
