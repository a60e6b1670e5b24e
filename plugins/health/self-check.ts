// Once a second the process asks its own /health (CoreDNS health/overloaded.go):
// a slow answer means the event loop cannot keep up with the query load.

import { get } from 'node:http';
import { Counter, Histogram } from 'prom-client';
import type { App } from '../../src/app.js';
import type { HttpAddress } from '../../src/server/http.js';
import { joinHostPort } from '../../src/util/hostport.js';

const INTERVAL_MS = 1000;
const TIMEOUT_MS = 3000;
/** plugin.SlimTimeBuckets: ExponentialBuckets(0.00025, 10, 5). */
const BUCKETS = [0.00025, 0.0025, 0.025, 0.25, 2.5];

export class SelfCheck {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly url: string;
  private readonly duration: Histogram;
  private readonly failures: Counter;

  constructor(app: App, address: HttpAddress, path: string) {
    // Listening on every interface: ask over loopback, as CoreDNS asks localhost.
    const host = address.host === '' || address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
    this.url = `http://${joinHostPort(host, address.port)}${path}`;
    this.duration = app.metric(
      'coredns_health_request_duration_seconds',
      (registers) =>
        new Histogram({
          name: 'coredns_health_request_duration_seconds',
          help: 'Histogram of the time (in seconds) each request took.',
          buckets: BUCKETS,
          registers,
        }),
    );
    this.failures = app.metric(
      'coredns_health_request_failures_total',
      (registers) => new Counter({ name: 'coredns_health_request_failures_total', help: 'The number of times the health check failed.', registers }),
    );
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => this.probe(), INTERVAL_MS);
    // Never what keeps the process alive.
    this.timer.unref();
  }

  private probe(): void {
    const start = process.hrtime.bigint();
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      if (ok) this.duration.observe(Number(process.hrtime.bigint() - start) / 1e9);
      else this.failures.inc();
      this.schedule();
    };
    const req = get(this.url, { timeout: TIMEOUT_MS, agent: false }, (res) => {
      res.resume();
      res.once('end', () => done(res.statusCode === 200));
      res.once('error', () => done(false));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => done(false));
  }
}
