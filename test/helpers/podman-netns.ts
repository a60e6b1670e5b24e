// Podman with netavark inside a network namespace a test owns (the host's
// Podman uses CNI; `ip netns exec` does not work for podman, nsenter does),
// and the libpod API service the sources read. Needs root.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { assertClearOfHost } from './ports.js';
import { Agent, request } from 'undici';
import { parseDig, type DigResult } from './dig.js';

const run = promisify(execFile);

/** Runs `podman --network-backend netavark ARGS` in `ns`; a failure carries podman's own stderr. */
export async function podmanIn(ns: string, ...args: string[]): Promise<string> {
  const subnet = args.indexOf('--subnet');
  if (subnet >= 0 && !args[subnet + 1]?.includes(':')) assertClearOfHost(args[subnet + 1] ?? '');
  try {
    return (await run('nsenter', [`--net=/run/netns/${ns}`, 'podman', '--network-backend', 'netavark', ...args], { timeout: 60_000 })).stdout.trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`podman ${args.join(' ')} failed: ${err.stderr?.trim() || err.message}`);
  }
}

/** Runs `cmd` in a running container's network namespace (`podman` is how to reach its Podman), with the host's tools (dig): its queries leave from the container's address. */
export async function inContainerNet(podman: (...args: string[]) => Promise<string>, container: string, cmd: string, args: string[]): Promise<string> {
  const pid = await podman('inspect', '--format', '{{.State.Pid}}', container);
  return (await run('nsenter', [`--net=/proc/${pid}/ns/net`, cmd, ...args], { timeout: 30_000 })).stdout;
}

/**
 * dig from `container`'s own address to `server`, three tries as a stub
 * resolver makes: netavark 1.4 changes a bridge's MAC when a container joins
 * or leaves it, and aardvark-dns before 1.11 reopens its listeners on every
 * such change (containers/aardvark-dns#389); a query in that moment is lost.
 */
export async function digInContainer(
  podman: (...args: string[]) => Promise<string>,
  container: string,
  server: string,
  name: string,
  type = 'A',
): Promise<DigResult> {
  return parseDig(await inContainerNet(podman, container, 'dig', [`@${server}`, name, type, '+time=2', '+tries=3']));
}

export interface LibpodService {
  socket: string;
  stop(): Promise<void>;
}

/** `podman system service` on `socket` in `ns` (with global `flags`, such as a storage's), once it answers `_ping` (bounded: 5 s or it throws). */
export async function startLibpodService(ns: string, socket: string, flags: string[] = []): Promise<LibpodService> {
  const p = spawn(
    'nsenter',
    [`--net=/run/netns/${ns}`, 'podman', '--network-backend', 'netavark', ...flags, 'system', 'service', '--time', '0', `unix://${socket}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const agent = new Agent({ connect: { socketPath: socket } });
  const service = { socket, stop: () => stopChild(p).finally(() => agent.close()) };
  for (let i = 0; ; i++) {
    if (p.exitCode !== null) throw new Error(`podman system service exited ${p.exitCode}: ${err}`);
    const ok = await request('http://podman/v4.0.0/libpod/_ping', { dispatcher: agent }).then(
      async (r) => (await r.body.text()) === 'OK',
      () => false,
    );
    if (ok) return service;
    if (i === 50) {
      await service.stop();
      throw new Error(`podman system service did not answer on ${socket}: ${err}`);
    }
    // Nothing to await: the service gives no sign when its socket is up.
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Pins the MAC of every bridge in `ns` (netavark 1.9 does it itself). With
 * netavark 1.4 a bridge takes its lowest port's MAC, so a container that
 * joins or leaves can change it, and the other containers' packets to the
 * gateway (and through it to the node) are lost until their ARP entry ages,
 * which took over 6 s in these tests. Call once the bridges exist.
 */
export async function pinBridgeMacs(ns: string): Promise<void> {
  const bridges = JSON.parse((await run('ip', ['-n', ns, '-j', 'link', 'show', 'type', 'bridge'])).stdout) as Array<{ ifname: string; address: string }>;
  for (const b of bridges) await run('ip', ['-n', ns, 'link', 'set', 'dev', b.ifname, 'address', b.address]);
}

/** SIGTERM and wait for the exit (no-op when it already exited). */
export async function stopChild(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((resolve) => p.once('exit', resolve));
  p.kill('SIGTERM');
  await exited;
}
