// A network namespace of a test's own with Podman (netavark) and its libpod
// API service inside, and addresses on its `lo` for our servers to bind:
// containers reach them through their gateway, as they reach a node's DNS
// address. Podman's names are the host's, not the namespace's: the test names
// what it makes with `podmanPrefix(tag)`, and the lab removes it, and what an
// interrupted earlier run left (podman-names.ts). Needs root.

import { createNetns, type Netns } from './netns-one.js';
import { removeLeftovers } from './podman-names.js';
import { podmanIn, startLibpodService, type LibpodService } from './podman-netns.js';

export interface PodmanLab {
  ns: Netns;
  socket: string;
  /** `podman ARGS` in the namespace; a failure carries podman's stderr. */
  podman(...args: string[]): Promise<string>;
  /** The container's address on `network`. */
  ipOn(container: string, network: string): Promise<string>;
  /** Containers, networks, the service and the namespace; safe to call twice. */
  destroy(): Promise<void>;
}

/** Every container and network the test makes is named with `podmanPrefix(tag)`. */
export async function createPodmanLab(nsName: string, tag: string, loAddrs: string[]): Promise<PodmanLab> {
  const ns = await createNetns(nsName, loAddrs);
  const podman = (...args: string[]): Promise<string> => podmanIn(nsName, ...args);
  const socket = `/tmp/${nsName}.sock`;
  let service: LibpodService | undefined;
  const clean = (): Promise<void> => removeLeftovers(podman, tag);
  const lab: PodmanLab = {
    ns,
    socket,
    podman,
    ipOn: (container, network) => podman('inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container),
    async destroy() {
      await clean().catch((e: unknown) => console.error(e));
      await service?.stop();
      service = undefined;
      await ns.destroy();
    },
  };
  try {
    await clean();
    service = await startLibpodService(nsName, socket);
  } catch (err) {
    await lab.destroy();
    throw err;
  }
  return lab;
}
