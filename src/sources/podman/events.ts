// What libpod's container events mean for a container's networks. Its own
// module so DNS-side code can read it without loading the HTTP client.

/** Events after which a container is inspected again: it (re)gained its networks. */
export const STARTED: ReadonlySet<string> = new Set(['start', 'unpause', 'restart']);
/** Events after which a container no longer runs. */
export const STOPPED: ReadonlySet<string> = new Set(['stop', 'died', 'die', 'remove']);
