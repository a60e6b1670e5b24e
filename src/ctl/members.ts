// `podswarm-dns members`: the cluster as this node sees it (GET /api/v1/members).

import type { Member } from '../client/types.js';
import { joinHostPort } from '../util/hostport.js';
import { API_OPTIONS, apiClient, callApi } from './api.js';
import { API_HELP, COMMON_HELP, COMMON_OPTIONS, type Command } from './command.js';
import { EXIT } from './exit.js';
import { printJson, table } from './table.js';

export const members: Command = {
  name: 'members',
  synopsis: 'podswarm-dns members [--api URL] [--json]',
  help: `Lists every cluster member the node knows, itself first: name, gossip address,
state (alive, suspect, dead = failed, left = left gracefully), since when,
incarnation, memberlist and delegate protocol versions (current [min-max]) and tags.
A node without the gossip plugin lists itself alone.
${API_HELP}
${COMMON_HELP}`,
  options: { ...COMMON_OPTIONS, api: API_OPTIONS.api },
  args: { min: 0, max: 0 },
  async run(p, out) {
    const r = await callApi(apiClient(p), p, (c) => c.getMembers());
    if (out.json) {
      printJson(out, r);
      return EXIT.OK;
    }
    const rows = r.members.map((m) => [
      m.name,
      address(m),
      m.state,
      m.stateChangedAt.replace(/\.\d+Z$/, 'Z'),
      String(m.incarnation ?? '-'),
      versions(m.protocol),
      versions(m.delegate),
      tags(m.tags),
    ]);
    for (const l of table(['NAME', 'ADDRESS', 'STATE', 'SINCE', 'INCARNATION', 'PROTOCOL', 'DELEGATE', 'TAGS'], rows)) out.line(l);
    if (!r.gossip) out.note('this node runs no gossip plugin: it is a cluster of one');
    return EXIT.OK;
  },
};

function address(m: Member): string {
  // Both null together: a node without gossip.
  if (m.address === null || m.port === null) return '-';
  return joinHostPort(m.address, m.port);
}

function versions(v: Member['protocol']): string {
  return v === null ? '-' : `${v.current} [${v.min}-${v.max}]`;
}

function tags(t: Record<string, string>): string {
  return Object.entries(t)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
