// The unhealthy verdict comes at the threshold, not an interval after it,
// round after round, in the real process (a TCP check of a loopback port
// the test closes and opens; interval 200 ms, threshold 1 s). The verdict's
// own measure, `failing for Ns`, is what is asserted: it counts from the
// first failed check, so it must be the threshold, below threshold +
// interval (before the fix one round in five read threshold + interval).
// Ports from helpers/ports.ts.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { freePorts } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

const [PORT, DNS] = await freePorts(2);
let server: RunningServer;
let tcp: Server | undefined;

function listen(): Promise<void> {
  tcp = createServer((s) => s.destroy());
  return new Promise((resolve) => tcp!.listen(PORT, '127.0.0.1', resolve));
}

function close(): Promise<void> {
  return new Promise((resolve) => (tcp ? tcp.close(() => resolve()) : resolve()));
}

before(async () => {
  await listen();
  server = await startServer({
    corefile: `cluster.local:${DNS} {
    bind 127.0.0.1
    healthcheck {
        interval 200ms
        threshold 1s
        timeout 100ms
    }
    cluster cluster.local {
        registry {{dir}}/services.yaml
    }
}
`,
    files: {
      'services.yaml': `services:\n  - name: web\n    ports: [{ name: http, port: ${PORT} }]\n    health_check: { tcp: http }\n    endpoints: [{ name: web-0, address: 127.0.0.1 }]\n`,
    },
  });
});

after(async () => {
  await server.stop();
  await close();
});

test('five rounds: unhealthy at the threshold of failures each time, healthy at the next pass', { timeout: 60_000 }, async () => {
  const verdicts: number[] = [];
  for (let round = 1; round <= 5; round++) {
    await server.waitFor(new RegExp(`(?:is healthy: check passed[^]*){${round}}`));
    await close();
    const text = await server.waitFor(new RegExp(`(?:is unhealthy: failing for [\\d.]+s[^]*){${round - 1}}is unhealthy: failing for ([\\d.]+)s`));
    verdicts.push(Number(/failing for ([\d.]+)s$/.exec(text)![1]));
    await listen();
  }
  for (const s of verdicts) assert.ok(s >= 1 && s < 1.2, `failing for ${s}s in ${JSON.stringify(verdicts)}`);
});
