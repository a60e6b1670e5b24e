// `-workers N`: DNS from several processes sharing the sockets, the registry
// mirrored from the primary, and every process stopped on SIGTERM.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { dig } from './helpers/dig.js';
import { samples } from './helpers/metrics.js';
import { freePorts } from './helpers/ports.js';
import { startServer, type RunningServer } from './helpers/server.js';

const [PORT, METRICS] = await freePorts(2);

/** Sum of coredns_dns_requests_total over all series, from the primary's /metrics. */
async function requestsCounted(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${METRICS}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('coredns_dns_requests_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}
const registry = (addrs: string[]): string => `services:\n  - name: web\n    endpoints:\n${addrs.map((a) => `      - { address: ${a} }`).join('\n')}\n`;

/** Processes whose command line mentions this server's Corefile (the primary and its workers). */
function processCount(corefile: string): number {
  try {
    return execFileSync('pgrep', ['-f', corefile]).toString().trim().split('\n').length;
  } catch {
    return 0;
  }
}

describe('-workers', () => {
  let srv: RunningServer;
  before(async () => {
    srv = await startServer({
      corefile: `.:${PORT} {\n bind 127.0.0.1\n prometheus 127.0.0.1:${METRICS}\n cluster {\n  registry {{dir}}/r.yaml\n }\n}\n`,
      files: { 'r.yaml': registry(['10.2.0.1']) },
      args: ['-workers', '2'],
    });
  });
  after(() => srv?.stop());

  it('runs a primary and two workers that answer over UDP and TCP', async () => {
    assert.equal(processCount(srv.corefilePath), 3);
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(
        (await dig(PORT, 'web.default.cluster.local')).answer.map((a) => a.data),
        ['10.2.0.1'],
      );
    }
    assert.deepEqual(
      (await dig(PORT, 'web.default.cluster.local', 'A', ['+tcp'])).answer.map((a) => a.data),
      ['10.2.0.1'],
    );
  });

  it('mirrors a registry change to every worker', async () => {
    writeFileSync(join(srv.dir, 'r.yaml'), registry(['10.2.0.1', '10.2.0.2']));
    // Queries spread over both workers: converged when a run of 20 all see the new endpoint.
    const deadline = Date.now() + 5000;
    let answers: string[][] = [];
    while (Date.now() < deadline) {
      answers = await Promise.all(Array.from({ length: 20 }, async () => (await dig(PORT, 'web.default.cluster.local')).answer.map((a) => a.data)));
      if (answers.every((a) => a.length === 2)) break;
    }
    for (const a of answers) assert.deepEqual(a, ['10.2.0.1', '10.2.0.2']);
  });

  it('serves /metrics from the primary, counting the queries every worker answered', async () => {
    const answeredByCluster = (text: string): number =>
      samples(text, 'coredns_dns_responses_total')
        .filter((x) => x.labels.rcode === 'NOERROR' && x.labels.plugin === 'cluster')
        .reduce((sum, x) => sum + x.value, 0);
    const before = await requestsCounted();
    const clusterBefore = answeredByCluster(await (await fetch(`http://127.0.0.1:${METRICS}/metrics`)).text());
    for (let i = 0; i < 30; i++) await dig(PORT, 'web.default.cluster.local');
    assert.equal((await requestsCounted()) - before, 30);
    const text = await (await fetch(`http://127.0.0.1:${METRICS}/metrics`)).text();
    // The plugin label survives the merge of the workers' metrics.
    assert.equal(answeredByCluster(text) - clusterBefore, 30);
    assert.match(text, /^coredns_build_info\{version="[^"]+",revision="",goversion="node[^"]+"\} 1$/m);
    assert.match(text, /^podswarm_registry_endpoints\{healthy="true"\} 2$/m);
  });

  it('stops every process on SIGTERM', async () => {
    assert.equal(await srv.stop('SIGTERM'), 0);
    assert.equal(processCount(srv.corefilePath), 0);
  });
});
