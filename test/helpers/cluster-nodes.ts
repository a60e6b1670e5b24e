// Three podswarm-dns processes in the node namespaces of a netns lab, each
// with a registry file of its own, and the cluster DNS scenarios every
// registry backend must pass alike (gossip-cluster.test.ts runs them over
// gossip, helpers/etcd-suite.ts over etcd): the same questions, the same
// answers, record by record.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { parseDig, type DigRecord } from './dig.js';
import { eventuallyAnswers } from './eventually.js';
import type { Lab } from './netns.js';
import { startServer, type RunningServer } from './server.js';

export const NODES = [1, 2, 3] as const;
export type N = (typeof NODES)[number];

/** One registered endpoint: its address, and whether the file says it is served. */
interface Registration {
  address: string;
  healthy: boolean;
}

export interface ClusterNodesOptions {
  lab: () => Lab;
  dnsPort: (i: N) => number;
  /** The node's Corefile; `{{dir}}/services.yaml` is its registry file. */
  corefile: (i: N) => string;
}

export class ClusterNodes {
  readonly servers = new Map<N, RunningServer>();
  /** What each node registers in its own file: service name → endpoint. */
  private readonly services: Record<N, Record<string, Registration>> = {
    1: { svc1: { address: '203.0.113.1', healthy: true } },
    2: { svc2: { address: '203.0.113.2', healthy: true } },
    3: { svc3: { address: '203.0.113.3', healthy: true } },
  };

  constructor(private readonly opts: ClusterNodesOptions) {}

  async start(i: N): Promise<void> {
    const lab = this.opts.lab();
    const s = await startServer({
      prefix: ['ip', 'netns', 'exec', lab.ns(i)],
      corefile: this.opts.corefile(i),
      files: { 'services.yaml': this.registry(i) },
      args: ['-node', `n${i}`],
    });
    this.servers.set(i, s);
  }

  async stopAll(): Promise<void> {
    for (const s of this.servers.values()) await s.stop('SIGKILL');
  }

  server(i: N): RunningServer {
    return this.servers.get(i)!;
  }

  /** Registers (or with `undefined`, removes) `name` on node `i`: rewrites its file, which the node re-reads. */
  register(i: N, name: string, address: string | undefined, healthy = true): void {
    if (address === undefined) delete this.services[i][name];
    else this.services[i][name] = { address, healthy };
    if (this.servers.has(i)) writeFileSync(join(this.server(i).dir, 'services.yaml'), this.registry(i));
  }

  /** Forgets `name` on node `i` without telling the node (for a restart without it). */
  forget(i: N, name: string): void {
    delete this.services[i][name];
  }

  /**
   * The records node `i` answers for `qname`, asked from inside its
   * namespace; status `NO REPLY` when dig got none in its one second. A node
   * whose process has exited fails the test at once, with its last output.
   */
  async ask(i: N, qname: string, type = 'A'): Promise<{ status: string; answer: DigRecord[] }> {
    const lab = this.opts.lab();
    let out: string;
    try {
      out = await lab.exec(i, 'dig', [`@${lab.addr(i)}`, '-p', String(this.opts.dnsPort(i)), qname, type, '+norec', '+time=1', '+tries=1']);
    } catch (err) {
      const s = this.servers.get(i);
      const proc = s?.proc;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
        const tail = (s?.output() ?? '').split('\n').slice(-40).join('\n');
        throw new Error(
          `n${i} is not running (exit ${proc?.exitCode ?? '-'}, signal ${proc?.signalCode ?? '-'}) when asked ${qname} ${type}; its last output:\n${tail}`,
        );
      }
      return { status: 'NO REPLY', answer: [] };
    }
    const { status, answer } = parseDig(out);
    return { status, answer };
  }

  /** The A records node `i` answers for `<name>.default.cluster.local`, sorted. */
  async answers(i: N, name: string): Promise<string[]> {
    return (await this.ask(i, `${name}.default.cluster.local`)).answer.map((r) => r.data).sort();
  }

  async waitAnswers(i: N, name: string, want: string[], why: string): Promise<void> {
    await eventuallyAnswers(() => this.answers(i, name), `n${i}`, name, want, why, 30_000, 200);
  }

  /** Every node in `on` answers for every healthy endpoint any node registers. */
  async converged(why: string, on: readonly N[] = NODES): Promise<void> {
    const all = Object.assign({}, ...NODES.map((j) => this.services[j])) as Record<string, Registration>;
    for (const i of on) for (const [name, r] of Object.entries(all)) await this.waitAnswers(i, name, r.healthy ? [r.address] : [], why);
  }

  private registry(i: N): string {
    const list = Object.entries(this.services[i]).map(
      ([name, r]) =>
        `  - name: ${name}\n    ports:\n      - { name: http, port: 8080 }\n    endpoints:\n      - { address: ${r.address}, healthy: ${r.healthy} }\n`,
    );
    return `services:\n${list.join('')}`;
  }
}

/**
 * The scenarios every registry backend passes alike. `killed` is what the
 * backend waits for before a killed node's endpoints leave (gossip: the
 * failure detector; etcd: the lease TTL), for the test's name.
 */
export function clusterScenarios(c: () => ClusterNodes, killed: string): void {
  it('answers for every node’s services on every node', async () => {
    await c().converged('initial sync');
  });

  it('gives every node the same SRV, endpoint and namespace answers for another node’s service', async () => {
    const srv = {
      status: 'NOERROR',
      answer: [
        { name: '_http._tcp.svc1.default.cluster.local.', ttl: 60, class: 'IN', type: 'SRV', data: '0 100 8080 203-0-113-1.svc1.default.svc.cluster.local.' },
      ],
    };
    const endpoint = { status: 'NOERROR', answer: [{ name: '203-0-113-1.svc1.default.cluster.local.', ttl: 60, class: 'IN', type: 'A', data: '203.0.113.1' }] };
    for (const i of NODES) {
      assert.deepEqual(await c().ask(i, '_http._tcp.svc1.default.cluster.local', 'SRV'), srv, `n${i} SRV`);
      assert.deepEqual(await c().ask(i, '203-0-113-1.svc1.default.cluster.local'), endpoint, `n${i} endpoint name`);
      assert.deepEqual(await c().ask(i, 'default.cluster.local'), { status: 'NOERROR', answer: [] }, `n${i} namespace NODATA`);
      assert.deepEqual(await c().ask(i, 'nosuch.default.cluster.local'), { status: 'NXDOMAIN', answer: [] }, `n${i} unknown service`);
    }
  });

  it('serves a service registered on node 1 from node 3', async () => {
    c().register(1, 'late', '203.0.113.101');
    await c().waitAnswers(3, 'late', ['203.0.113.101'], 'registered on n1');
    await c().converged('after registering late');
  });

  it('serves another node’s endpoint only while it is healthy', async () => {
    c().register(2, 'sick', '203.0.113.105', false);
    c().register(2, 'marker', '203.0.113.106');
    await c().waitAnswers(1, 'marker', ['203.0.113.106'], 'registered on n2 after sick');
    assert.deepEqual(await c().ask(1, 'sick.default.cluster.local'), { status: 'NXDOMAIN', answer: [] }, 'an unhealthy endpoint is not served');
    c().register(2, 'sick', '203.0.113.105', true);
    await c().waitAnswers(1, 'sick', ['203.0.113.105'], 'healthy on n2');
    c().register(2, 'sick', '203.0.113.105', false);
    await c().waitAnswers(3, 'sick', [], 'unhealthy again on n2');
    c().register(2, 'sick', undefined);
    c().register(2, 'marker', undefined);
    await c().converged('sick and marker removed');
  });

  it(`drops a killed node’s endpoints (${killed}), and serves them again after a restart`, async () => {
    await c().server(1).stop('SIGKILL');
    for (const i of [2, 3] as const) {
      await c().waitAnswers(i, 'svc1', [], 'n1 killed');
      await c().waitAnswers(i, 'late', [], 'n1 killed');
    }
    await c().start(1);
    await c().converged('n1 restarted');
  });

  it('forgets what a node no longer registers after it restarts', async () => {
    await c().server(1).stop('SIGKILL');
    c().forget(1, 'late');
    await c().start(1);
    await c().converged('n1 restarted without late');
    for (const i of NODES) await c().waitAnswers(i, 'late', [], 'n1 restarted without late');
  });
}
