// One bare network namespace of a test's own (only `lo`, up), for servers
// that must own well-known addresses and port 53 without touching the host:
// systemd-resolved's stub addresses, the node DNS address on `lo`.
// (netns.ts builds a multi-node lab with a bridge; this is the single-box
// case.) Needs root.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { assertClearOfHost } from './ports.js';
import { parseDig, type DigResult } from './dig.js';

const run = promisify(execFile);

export interface Netns {
  name: string;
  /** `/run/netns/NAME`, for `nsenter --net=` (what podman needs; `ip netns exec` remounts /sys). */
  path: string;
  /** Runs `cmd` inside the namespace; resolves with its stdout. */
  exec(cmd: string, args: string[]): Promise<string>;
  /** `dig @server NAME TYPE` from inside the namespace, parsed. */
  dig(server: string, name: string, type?: string, extra?: string[]): Promise<DigResult>;
  /** Deletes the namespace; safe to call twice. */
  destroy(): Promise<void>;
}

/** Creates namespace `name` with `lo` up and `loAddrs` (e.g. `169.254.20.10/32`) added to `lo`. */
export async function createNetns(name: string, loAddrs: string[] = []): Promise<Netns> {
  for (const a of loAddrs) if (!a.includes(':')) assertClearOfHost(a);
  await run('ip', ['netns', 'add', name]);
  let gone = false;
  const ns: Netns = {
    name,
    path: `/run/netns/${name}`,
    exec: async (cmd, args) => (await run('ip', ['netns', 'exec', name, cmd, ...args])).stdout,
    async dig(server, qname, type = 'A', extra = []) {
      // dig exits 9 on a timeout; its output still says so, and parseDig reads that.
      const out = await ns.exec('dig', [`@${server}`, qname, type, '+time=2', '+tries=1', ...extra]).catch((e: { stdout?: string }) => e.stdout ?? '');
      return parseDig(out);
    },
    async destroy() {
      if (gone) return;
      gone = true;
      await run('ip', ['netns', 'del', name]).catch(() => {});
    },
  };
  try {
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    for (const a of loAddrs) await run('ip', ['-n', name, 'addr', 'add', a, 'dev', 'lo', 'label', 'lo:podswarm']);
  } catch (err) {
    await ns.destroy();
    throw err;
  }
  return ns;
}
