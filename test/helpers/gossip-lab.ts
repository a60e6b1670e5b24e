// podswarm-dns nodes in a network-namespace lab (helpers/netns.ts), each
// serving its own registry file and gossiping with the others: start, stop
// and restart them, change what they register, and ask them over DNS and
// /metrics from inside their namespaces. Needs root.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DigResult, parseDig } from './dig.js';
import { createLab, type Lab } from './netns.js';
import { startServer, type RunningServer } from './server.js';

export interface GossipLabOptions {
  /** Unique on the host (e.g. with the pid): the namespaces are named after it. */
  tag: string;
  /** `a.b.c`: node i is `a.b.c.i`. */
  subnet: string;
  /** Namespaces to create; nodes are started by `start`. */
  size: number;
  dnsPort: number;
  gossipPort: number;
  metricsPort: number;
  /** Lines for node i's `gossip { }` block, after bind and join. */
  gossip: (i: number) => string[];
  /** Which nodes node i joins (default: every other node of the lab). */
  seeds?: (i: number) => number[];
}

export class GossipLab {
  readonly servers = new Map<number, RunningServer>();
  /** What each node registers in its file: service name → address. */
  readonly services = new Map<number, Record<string, string>>();

  private constructor(
    readonly lab: Lab,
    private readonly o: GossipLabOptions,
  ) {}

  static async create(o: GossipLabOptions): Promise<GossipLab> {
    return new GossipLab(await createLab(o.tag, o.subnet, o.size), o);
  }

  addr(i: number): string {
    return this.lab.addr(i);
  }

  /** Starts node i (`-node n<i>`) serving `services` and waits until it answers. */
  async start(i: number, services: Record<string, string> = this.services.get(i) ?? {}): Promise<RunningServer> {
    this.services.set(i, { ...services });
    const s = await startServer({
      prefix: ['ip', 'netns', 'exec', this.lab.ns(i)],
      corefile: this.corefile(i),
      files: { 'services.yaml': this.registry(i) },
      args: ['-node', `n${i}`, ...(process.env.PSW_LAB_LOG ? ['-log.level', process.env.PSW_LAB_LOG] : [])],
    });
    this.servers.set(i, s);
    return s;
  }

  async stop(i: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.servers.get(i)?.stop(signal);
    this.servers.delete(i);
  }

  /** Rewrites node i's registry file (the running node reloads it; a stopped one reads it at start). */
  register(i: number, services: Record<string, string>): void {
    this.services.set(i, { ...services });
    const s = this.servers.get(i);
    if (s) writeFileSync(join(s.dir, 'services.yaml'), this.registry(i));
  }

  /** `<name>.default.cluster.local A`, asked of node i from inside its namespace. */
  async query(i: number, name: string): Promise<DigResult> {
    const out = await this.lab
      .exec(i, 'dig', [`@${this.addr(i)}`, '-p', String(this.o.dnsPort), `${name}.default.cluster.local`, 'A', '+norec', '+time=1', '+tries=1'])
      .catch((err: { stdout?: string }) => err.stdout ?? '');
    return parseDig(out);
  }

  async answers(i: number, name: string): Promise<string[]> {
    return (await this.query(i, name)).answer.map((r) => r.data).sort();
  }

  async metrics(i: number): Promise<string> {
    return this.lab.exec(i, 'curl', ['-s', `http://${this.addr(i)}:${this.o.metricsPort}/metrics`]);
  }

  async destroy(): Promise<void> {
    for (const i of [...this.servers.keys()]) await this.stop(i, 'SIGKILL');
    await this.lab.destroy();
  }

  private registry(i: number): string {
    const list = Object.entries(this.services.get(i) ?? {}).map(([name, address]) => `  - name: ${name}\n    endpoints:\n      - { address: ${address} }\n`);
    return list.length === 0 ? 'services: []\n' : `services:\n${list.join('')}`;
  }

  private corefile(i: number): string {
    const o = this.o;
    const seeds = (o.seeds?.(i) ?? Array.from({ length: o.size }, (_, k) => k + 1).filter((j) => j !== i)).map((j) => `${this.addr(j)}:${o.gossipPort}`);
    const lines = [`bind ${this.addr(i)}:${o.gossipPort}`, ...(seeds.length > 0 ? [`join ${seeds.join(' ')}`] : []), ...o.gossip(i)];
    return `cluster.local:${o.dnsPort} {
    bind ${this.addr(i)}
    prometheus ${this.addr(i)}:${o.metricsPort}
    gossip {
        ${lines.join('\n        ')}
    }
    cluster cluster.local {
        registry {{dir}}/services.yaml
    }
}
`;
  }
}
