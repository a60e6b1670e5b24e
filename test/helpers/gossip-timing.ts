// Gossip settings for test clusters: failures detected and changes spread in
// about a second, instead of memberlist's LAN defaults (seconds to tens of
// seconds). Lines for a `gossip { }` block, each indented by `indent`.

export function fastGossip(indent: string, pushPull = '2s'): string {
  return ['profile local', 'probe_interval 200ms', 'probe_timeout 100ms', 'suspicion_mult 3', 'gossip_interval 50ms', `push_pull_interval ${pushPull}`]
    .map((l, i) => (i === 0 ? l : indent + l))
    .join('\n');
}
