// A container's Podman HEALTHCHECK, as libpod's inspection shows it.

import type { PodmanHealth } from '../../registry/types.js';
import type { ContainerInspect } from './libpod.js';

/** Whether the container has a Podman HEALTHCHECK (`--health-cmd`, or the image's). */
export function hasPodmanHealthcheck(c: ContainerInspect): boolean {
  const test = c.Config.Healthcheck?.Test;
  return !!test && test.length > 0 && test[0] !== 'NONE';
}

/** Libpod's status of the container's HEALTHCHECK; `starting` until its first result. */
export function podmanHealthOf(c: ContainerInspect): PodmanHealth | undefined {
  if (!hasPodmanHealthcheck(c)) return undefined;
  const s = c.State.Health?.Status;
  return s === 'healthy' || s === 'unhealthy' ? s : 'starting';
}
