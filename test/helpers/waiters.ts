// Waiting on output that arrives in pieces (a process's log, notifications):
// `probe` runs now and after every new piece, until it settles the wait, or
// the time runs out. The piece's producer calls every function in `waiters`.

export type Probe<T> = () => { value: T } | { error: Error } | undefined;

export function settleWhen<T>(waiters: Set<() => void>, probe: Probe<T>, timeoutMs: number, timeoutMessage: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const r = probe();
      if (r === undefined) return;
      done();
      if ('error' in r) reject(r.error);
      else resolve(r.value);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(timeoutMessage()));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      waiters.delete(check);
    };
    waiters.add(check);
    check();
  });
}
