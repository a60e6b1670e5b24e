// Names for the containers and networks a test makes in a Podman that other
// processes share: Podman keeps one set of names (and one network
// configuration) for the whole host, whatever network namespace it runs in,
// so two test files, or two suites, must never pick the same name, nor
// remove each other's.

/** `TAG-PID-`: the start of every name this process gives under `tag`. */
export function podmanPrefix(tag: string): string {
  return `${tag}-${process.pid}-`;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the containers and networks under `tag` that this process made, or
 * that a run which is no longer running left behind (interrupted before its
 * cleanup); those of a run still going are not touched.
 */
export async function removeLeftovers(podman: (...args: string[]) => Promise<string>, tag: string): Promise<void> {
  const ours = new RegExp(`^${tag}-(\\d+)-`);
  const leftover = (name: string): boolean => {
    const pid = Number(ours.exec(name)?.[1]);
    return pid > 0 && (pid === process.pid || !running(pid));
  };
  const containers = (await podman('ps', '-a', '--format', '{{.Names}}', '--filter', `name=^${tag}-`)).split('\n').filter(leftover);
  if (containers.length > 0) await podman('rm', '-f', '-t', '0', ...containers);
  for (const net of (await podman('network', 'ls', '--format', '{{.Name}}')).split('\n').filter(leftover)) await podman('network', 'rm', '-f', net);
}
