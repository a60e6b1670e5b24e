// `-workers N`: DNS served by N node:cluster workers sharing the listening
// sockets (the kernel spreads datagrams over them), while the primary runs
// the control plugins and owns the registry. Workers keep a mirror of the
// registry, fed source by source over IPC.

import cluster, { type Worker } from 'node:cluster';
import type { App } from '../app.js';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { SourceSnapshot } from '../registry/types.js';

type ToWorker = { t: 'source'; id: string; snap: SourceSnapshot } | { t: 'synced' } | { t: 'reload' } | { t: 'metrics'; id: number } | { t: 'stop' };

type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

type ToPrimary =
  | { t: 'hello' }
  | { t: 'listening' }
  | { t: 'failed'; message: string }
  | { t: 'fatal'; message: string }
  | { t: 'metrics'; id: number; metrics: WorkerMetrics };

export function isWorkerProcess(): boolean {
  return cluster.isWorker;
}

/** The primary's handle on its workers; when each is used is src/server/lifecycle.ts. */
export interface Workers {
  /** Every worker reloads its Corefile (after the primary has). */
  reload(): void;
  /** Every worker stops as on SIGTERM; resolves once each has exited. */
  stop(): Promise<void>;
  /** Kills every worker at once (a fatal condition), forking none again. */
  kill(): void;
}

/**
 * Forks the workers and mirrors the registry to them. Resolves once every
 * worker listens; rejects with a worker's startup error. A worker's fatal
 * condition goes to `onFatal`: it stops the whole node.
 */
export async function startWorkers(app: App, count: number, onFatal: (message: string) => void): Promise<Workers> {
  const log = app.pluginLog('workers');
  const workers = new Set<Worker>();
  let stopping = false;
  const sendAll = (w: Worker): void => {
    for (const id of app.registry.sourceIds()) send(w, { t: 'source', id, snap: app.registry.snapshot(id) });
    send(w, { t: 'synced' });
  };

  // Batch source changes per tick: a file reload touches one source many times.
  const pending = new Set<string>();
  app.registry.on('source', (id) => {
    if (pending.size === 0) setImmediate(flush);
    pending.add(id);
  });
  const flush = (): void => {
    for (const id of pending) {
      const msg: ToWorker = { t: 'source', id, snap: app.registry.snapshot(id) };
      for (const w of workers) send(w, msg);
    }
    pending.clear();
  };

  // Metrics scrapes in flight: id → one callback per worker reply.
  const scrapes = new Map<number, (metrics: WorkerMetrics) => void>();
  let scrapeId = 0;
  app.workerMetrics = () =>
    new Promise((resolve) => {
      const id = ++scrapeId;
      const replies: WorkerMetrics[] = [];
      const expected = [...workers].filter((w) => w.isConnected()).length;
      const finish = (): void => {
        scrapes.delete(id);
        clearTimeout(timer);
        resolve(replies);
      };
      // A worker that does not answer in time (restarting, say) is left out of this scrape.
      const timer = setTimeout(finish, 2000);
      scrapes.set(id, (metrics) => {
        replies.push(metrics);
        if (replies.length >= expected) finish();
      });
      if (expected === 0) finish();
      for (const w of workers) send(w, { t: 'metrics', id });
    });

  const fork = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const w = cluster.fork({ PODSWARM_ROLE: 'worker' });
      workers.add(w);
      let listening = false;
      w.on('message', (m: ToPrimary) => {
        // The worker says hello once it listens for messages (earlier ones would be lost).
        if (m.t === 'hello') sendAll(w);
        else if (m.t === 'listening') {
          listening = true;
          resolve();
        } else if (m.t === 'fatal') onFatal(m.message);
        else if (m.t === 'metrics') scrapes.get(m.id)?.(m.metrics);
        else reject(new Error(m.message));
      });
      w.on('exit', (code, signal) => {
        workers.delete(w);
        if (stopping) return;
        // One that never came up would fail the same way again: report it instead of forking forever.
        if (!listening) return reject(new Error(`worker ${w.process.pid} exited (${signal ?? code}) before it listened`));
        log.error(`worker ${w.process.pid} exited (${signal ?? code}); starting another`);
        fork().catch((e: Error) => log.error(`worker restart failed: ${e.message}`));
      });
    });

  await Promise.all(Array.from({ length: count }, fork));
  return {
    reload() {
      for (const w of workers) send(w, { t: 'reload' });
    },
    async stop() {
      stopping = true;
      await Promise.all(
        [...workers].map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once('exit', () => resolve());
              send(w, { t: 'stop' });
            }),
        ),
      );
    },
    kill() {
      stopping = true;
      for (const w of workers) w.kill();
    },
  };
}

/** Inside a worker: what the primary may ask of it. */
export interface PrimaryOrders {
  reload(): void;
  stop(): void;
}

/**
 * Inside a worker: applies the primary's messages from now on. Resolves once
 * the registry mirror holds everything the primary had, so the worker never
 * serves from an empty registry.
 */
export function followPrimary(app: App, orders: PrimaryOrders): Promise<void> {
  return new Promise((synced) => {
    process.on('message', (m: ToWorker) => {
      if (m.t === 'source') app.registry.setSource(m.id, m.snap);
      else if (m.t === 'synced') synced();
      else if (m.t === 'reload') orders.reload();
      else if (m.t === 'metrics') void app.metrics.getMetricsAsJSON().then((metrics) => process.send!({ t: 'metrics', id: m.id, metrics } satisfies ToPrimary));
      else if (m.t === 'stop') orders.stop();
    });
    process.send!({ t: 'hello' } satisfies ToPrimary);
  });
}

/** Inside a worker: a fatal condition stops the whole node, not just this worker (which the primary would replace). */
export function reportFatal(message: string): void {
  process.send!({ t: 'fatal', message } satisfies ToPrimary);
}

/** Inside a worker: tells the primary how startup went. */
export function reportStarted(err?: Error): void {
  process.send!(err ? ({ t: 'failed', message: err.message } satisfies ToPrimary) : ({ t: 'listening' } satisfies ToPrimary));
}

function send(w: Worker, msg: ToWorker): void {
  if (w.isConnected()) w.send(msg);
}
