// The forward plugin's Prometheus metrics (CoreDNS names), shared by every
// forward instance of the process.

import { Counter, Histogram } from 'prom-client';
import type { App } from '../../src/app.js';

export interface ForwardMetrics {
  requests: Counter<'to'>;
  responses: Counter<'to' | 'rcode'>;
  duration: Histogram<'server' | 'to' | 'rcode'>;
  healthcheckFailures: Counter<'to'>;
  healthcheckBroken: Counter;
  maxConcurrentRejects: Counter;
  malformed: Counter<'to'>;
}

// CoreDNS plugin.TimeBuckets: 0.25ms doubling 16 times (~8s).
const TIME_BUCKETS = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);

export function forwardMetrics(app: App): ForwardMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    app.metric(name, (registers) => new Counter<L>({ name, help, labelNames, registers }));
  return {
    requests: counter('coredns_forward_requests_total', 'Counter of requests made per upstream.', ['to']),
    responses: counter('coredns_forward_responses_total', 'Counter of responses received per upstream.', ['to', 'rcode']),
    duration: app.metric(
      'coredns_proxy_request_duration_seconds',
      (registers) =>
        new Histogram({
          name: 'coredns_proxy_request_duration_seconds',
          help: 'Histogram of the time each request took.',
          labelNames: ['server', 'to', 'rcode'],
          buckets: TIME_BUCKETS,
          registers,
        }),
    ),
    healthcheckFailures: counter('coredns_forward_healthcheck_failures_total', 'Counter of the number of failed healthchecks.', ['to']),
    healthcheckBroken: counter('coredns_forward_healthcheck_broken_total', 'Counter of the number of complete failures of the healthchecks.', []),
    maxConcurrentRejects: counter(
      'coredns_forward_max_concurrent_rejects_total',
      'Counter of the number of queries rejected because the concurrent queries were at maximum.',
      [],
    ),
    malformed: counter('coredns_forward_malformed_responses_total', 'Counter of upstream replies dropped because they do not parse.', ['to']),
  };
}
