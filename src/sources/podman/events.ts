// What libpod's container events mean for a container's networks. Its own
// module so DNS-side code can read it without loading the HTTP client.

/** Events after which a container is inspected again: it (re)gained its networks. */
export const STARTED: ReadonlySet<string> = new Set(['start', 'unpause', 'restart']);
/** Events after which a container no longer runs. */
export const STOPPED: ReadonlySet<string> = new Set(['stop', 'died', 'die', 'remove']);
/**
 * Not libpod's: what the watcher reports after a re-inspection found a
 * running container changed: its networks (Podman 4.3 sends no event for
 * `podman network connect`/`disconnect`) or its HEALTHCHECK status.
 */
export const NETWORKS_CHANGED = 'networks-changed';
/** libpod's event for each HEALTHCHECK run; the watcher passes it on only when the status changed. */
export const HEALTH_STATUS = 'health_status';
