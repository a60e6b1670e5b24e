// A network namespace of a test's own with Podman (netavark) and its libpod
// API service inside, and addresses on its `lo` for our servers to bind:
// containers reach them through their gateway, as they reach a node's DNS
// address. Removes what an interrupted earlier run left (containers and
// networks named with the prefix). Needs root.

import { createNetns, type Netns } from './netns-one.js';
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

/** `prefix` names every container and network the test makes (it is cleaned up by it). */
export async function createPodmanLab(nsName: string, prefix: string, loAddrs: string[]): Promise<PodmanLab> {
  const ns = await createNetns(nsName, loAddrs);
  const podman = (...args: string[]): Promise<string> => podmanIn(nsName, ...args);
  const socket = `/tmp/${nsName}.sock`;
  let service: LibpodService | undefined;
  const clean = async (): Promise<void> => {
    const names = (await podman('ps', '-a', '--format', '{{.Names}}', '--filter', `name=^${prefix}`)).split('\n').filter(Boolean);
    if (names.length > 0) await podman('rm', '-f', '-t', '0', ...names);
    for (const net of (await podman('network', 'ls', '--format', '{{.Name}}')).split('\n')) if (net.startsWith(prefix)) await podman('network', 'rm', '-f', net);
  };
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
