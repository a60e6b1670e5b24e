// A small lab of network namespaces: one per node, each with a veth to a
// bridge that sits in a namespace of its own, so nothing touches the host's
// network. `cut`/`heal` take a node's bridge port down and up (a partition).
// Needs root.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { assertClearOfHost } from './ports.js';

const run = promisify(execFile);

export interface Lab {
  /** The namespace of node `i` (1-based). */
  ns(i: number): string;
  /** Node `i`'s address, `<subnet>.<i>`. */
  addr(i: number): string;
  /** Runs `cmd` inside node `i`'s namespace; resolves with its stdout. */
  exec(i: number, cmd: string, args: string[]): Promise<string>;
  cut(i: number): Promise<void>;
  heal(i: number): Promise<void>;
  /** Bytes node `i` has sent and received on its veth. */
  traffic(i: number): Promise<{ tx: number; rx: number }>;
  /** Deletes every namespace (their interfaces go with them); safe to call twice. */
  destroy(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

/**
 * `tag` names the namespaces and must be unique on the host, e.g.
 * `g${process.pid}`. Interface names need not be: each is created straight
 * in its namespace, and is unique there.
 */
export async function createLab(tag: string, subnet: string, nodes: number): Promise<Lab> {
  assertClearOfHost(`${subnet}.0/24`);
  const sw = `${tag}-sw`;
  const ns = (i: number): string => `${tag}-n${i}`;
  const veth = (i: number): string => `v${i}`;
  const port = (i: number): string => `p${i}`;
  const created: string[] = [];
  const lab: Lab = {
    ns,
    addr: (i) => `${subnet}.${i}`,
    exec: async (i, cmd, args) => (await run('ip', ['netns', 'exec', ns(i), cmd, ...args])).stdout,
    cut: (i) => ip('-n', sw, 'link', 'set', port(i), 'down'),
    heal: (i) => ip('-n', sw, 'link', 'set', port(i), 'up'),
    async traffic(i) {
      const read = async (what: string) => Number(await lab.exec(i, 'cat', [`/sys/class/net/${veth(i)}/statistics/${what}_bytes`]));
      return { tx: await read('tx'), rx: await read('rx') };
    },
    async destroy() {
      for (const name of created.splice(0).reverse()) await ip('netns', 'del', name).catch(() => {});
    },
  };
  try {
    await ip('netns', 'add', sw);
    created.push(sw);
    await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', sw, 'link', 'set', 'br0', 'up');
    for (let i = 1; i <= nodes; i++) {
      await ip('netns', 'add', ns(i));
      created.push(ns(i));
      await ip('link', 'add', veth(i), 'netns', ns(i), 'type', 'veth', 'peer', 'name', port(i), 'netns', sw);
      await ip('-n', ns(i), 'addr', 'add', `${subnet}.${i}/24`, 'dev', veth(i));
      await ip('-n', ns(i), 'link', 'set', veth(i), 'up');
      await ip('-n', ns(i), 'link', 'set', 'lo', 'up');
      await ip('-n', sw, 'link', 'set', port(i), 'master', 'br0', 'up');
    }
  } catch (err) {
    await lab.destroy();
    throw err;
  }
  return lab;
}
