// Consul-style blocking queries: a request that names an index parks until
// the registry changes something in its scope past that index, the wait
// runs out, the client goes away, or the server closes.

import type { Registry } from '../registry/registry.js';
import type { ServiceKey } from '../registry/types.js';

/** What a query watches: everything, one namespace, or one service. */
export interface Scope {
  namespace?: string;
  service?: string;
}

export const DEFAULT_WAIT_MS = 5 * 60_000;
export const MAX_WAIT_MS = 10 * 60_000;

interface Waiter {
  scope: Scope;
  index: number;
  wake: () => void;
}

export class ChangeWaiters {
  private readonly waiting = new Set<Waiter>();
  private readonly onChange = (changed: ServiceKey[], index: number): void => {
    for (const w of this.waiting) {
      if (index > w.index && changed.some((k) => inScope(k, w.scope))) w.wake();
    }
  };

  constructor(private readonly registry: Registry) {
    registry.on('change', this.onChange);
  }

  /** The index a response in `scope` reports: the service's own, else the registry's. */
  indexOf(scope: Scope): number {
    if (scope.namespace !== undefined && scope.service !== undefined) {
      return this.registry.lookup(scope.namespace, scope.service)?.modifyIndex ?? this.registry.index;
    }
    return this.registry.index;
  }

  /**
   * Resolves when `scope` changes past `index`, after `ms`, or on `signal`. An
   * index other than the current one answers at once: the client is behind,
   * or holds an index from before a restart.
   */
  wait(scope: Scope, index: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this.indexOf(scope) !== index || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const w: Waiter = { scope, index, wake: () => done() };
      const timer = setTimeout(() => done(), ms);
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiting.delete(w);
        resolve();
      };
      signal.addEventListener('abort', done);
      this.waiting.add(w);
    });
  }

  /** Answers every parked query now (server closing) and stops listening. */
  close(): void {
    this.registry.off('change', this.onChange);
    for (const w of [...this.waiting]) w.wake();
  }
}

function inScope(k: ServiceKey, s: Scope): boolean {
  return (s.namespace === undefined || s.namespace === k.namespace) && (s.service === undefined || s.service === k.service);
}
