// `watch`: follows a service with blocking queries, so changes arrive as
// they happen without polling. Errors back off and retry until stopped.

import { setTimeout as sleep } from 'node:timers/promises';
import type { DiscoveryClient } from './http.js';
import { DiscoveryError, type ServiceEndpoint } from './types.js';

export interface WatchOptions {
  /** How long each blocking query may wait (default 5 min). */
  waitMs?: number;
  /** Called on failures; the watch keeps retrying. */
  onError?: (err: Error) => void;
}

export interface Watch {
  /** Stops the watch; resolves once the last request has ended. */
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Calls `onChange` with the current endpoints at once, then after every
 * change. A service that does not exist (yet) reports an empty list.
 */
export function watchService(
  client: DiscoveryClient,
  service: string,
  namespace: string,
  onChange: (endpoints: ServiceEndpoint[], index: number) => void,
  opts: WatchOptions = {},
): Watch {
  const stopped = new AbortController();
  const signal = stopped.signal;
  const loop = (async () => {
    let index = 0;
    let last: string | undefined;
    let backoff = 250;
    while (!signal.aborted) {
      try {
        const r = await client.endpointsAfter(service, namespace, index, opts.waitMs ?? 300_000, signal).catch((e: unknown) => {
          if (e instanceof DiscoveryError && e.status === 404 && e.index !== undefined) return { value: [], index: e.index };
          throw e;
        });
        // Spurious wake-ups (an unrelated change, a timeout) are not reported.
        const seen = JSON.stringify(r.value);
        if (seen !== last) onChange(r.value, r.index);
        last = seen;
        index = r.index;
        backoff = 250;
      } catch (err) {
        if (signal.aborted) break;
        opts.onError?.(err as Error);
        await sleep(backoff, undefined, { signal }).catch(() => {});
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  })();
  return {
    async stop() {
      stopped.abort();
      await loop;
    },
  };
}
