// A network namespace of a test's own with Podman (netavark) and its libpod
// API service inside, and addresses on its `lo` for our servers to bind:
// containers reach them through their gateway, as they reach a node's DNS
// address. Podman keeps its storage and network configuration in a
// directory of the lab's own (podman-storage.ts), so the API lists only the
// lab's containers and no name or subnet is shared with another test or
// suite. Needs root.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, type Netns } from './netns-one.js';
import { podmanIn, startLibpodService, type LibpodService } from './podman-netns.js';
import { imageArchive, removeStorage, storageFlags } from './podman-storage.js';

export interface PodmanLab {
  ns: Netns;
  socket: string;
  /** `podman ARGS` in the namespace, on the lab's storage; a failure carries podman's stderr. */
  podman(...args: string[]): Promise<string>;
  /** The container's address on `network`. */
  ipOn(container: string, network: string): Promise<string>;
  /** Containers, the service, the storage and the namespace; safe to call twice. */
  destroy(): Promise<void>;
}

/** Namespace `nsName` with `loAddrs` on its lo, and a Podman there holding `image` (copied from the host's). */
export async function createPodmanLab(nsName: string, image: string, loAddrs: string[]): Promise<PodmanLab> {
  const ns = await createNetns(nsName, loAddrs);
  const dir = mkdtempSync(join(tmpdir(), `${nsName}-podman-`));
  const flags = storageFlags(dir);
  const podman = (...args: string[]): Promise<string> => podmanIn(nsName, ...flags, ...args);
  const socket = join(dir, 'podman.sock');
  let service: LibpodService | undefined;
  let destroyed = false;
  const lab: PodmanLab = {
    ns,
    socket,
    podman,
    ipOn: (container, network) => podman('inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container),
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      // Their conmon processes outlive the namespace otherwise.
      await podman('rm', '-af', '-t', '0').catch((e: unknown) => console.error(e));
      await service?.stop();
      await ns.destroy();
      await removeStorage(dir);
    },
  };
  try {
    await podman('load', '--quiet', '-i', await imageArchive(image));
    service = await startLibpodService(nsName, socket, flags);
  } catch (err) {
    await lab.destroy();
    throw err;
  }
  return lab;
}
