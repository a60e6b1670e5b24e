// The one rule for whether an endpoint is served. Its owner applies it (the
// Podman source when a container changes, the checker when a check result
// does) and stores the answer as `healthy`; DNS (cluster, srv), the API's
// `?healthy=true` and gossip peers all read that one field, through the
// registry's view.

import type { Endpoint } from '../registry/types.js';

/**
 * Every declared health must allow it: a Podman HEALTHCHECK must say
 * `healthy` (`starting` and `unhealthy` are not served), and a podswarm check
 * must have passed (`verdict`: undefined before its first result, when only
 * `initially: healthy` serves it). Without any check, the source's own word.
 */
export function served(e: Pick<Endpoint, 'podmanHealth' | 'healthCheck'>, verdict: boolean | undefined, declared = true): boolean {
  if (e.podmanHealth !== undefined && e.podmanHealth !== 'healthy') return false;
  if (e.healthCheck) return verdict ?? e.healthCheck.initially === 'healthy';
  return declared;
}

/** What decides the endpoint's health, for the API. */
export type HealthSource = 'podman-healthcheck' | 'podswarm-check' | 'podman-healthcheck+podswarm-check' | 'none';

export function healthSource(e: Pick<Endpoint, 'podmanHealth' | 'healthCheck'>): HealthSource {
  if (e.podmanHealth !== undefined) return e.healthCheck ? 'podman-healthcheck+podswarm-check' : 'podman-healthcheck';
  return e.healthCheck ? 'podswarm-check' : 'none';
}
