// The members route's data: every member the gossip node knows, or this
// node alone when the process runs no gossip (a single-node deployment is
// still a cluster of one, and `members` should say so rather than fail).

import type { App } from '../app.js';
import type { MemberDetail, MemberStatus } from '../gossip/memberlist.js';
import { runningGossipNode } from '../../plugins/gossip/setup.js';

export interface VersionRange {
  min: number;
  max: number;
  current: number;
}

export interface MemberJson {
  name: string;
  /** Gossip address; null for a node without gossip (it has none). */
  address: string | null;
  port: number | null;
  state: MemberStatus;
  self: boolean;
  tags: Record<string, string>;
  /** memberlist protocol versions; null without gossip. */
  protocol: VersionRange | null;
  /** Delegate (Serf) protocol versions; null without gossip. */
  delegate: VersionRange | null;
  incarnation: number | null;
  /** ISO 8601 time of the last state change (without gossip: when the process started). */
  stateChangedAt: string;
}

export interface MembersJson {
  /** False when this node runs no gossip plugin: the list is this node alone. */
  gossip: boolean;
  members: MemberJson[];
}

/** What GET /api/v1/members answers; this node first, then by name. */
export type MembersSource = () => MembersJson;

export function membersOf(app: App): MembersJson {
  const node = runningGossipNode(app);
  if (!node) return { gossip: false, members: [alone(app.options.nodeName)] };
  const members = node.ml.memberDetails().map(memberJson);
  members.sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name));
  return { gossip: true, members };
}

function memberJson(m: MemberDetail): MemberJson {
  const v = m.vsn;
  return {
    name: m.name,
    address: m.addr,
    port: m.port,
    state: m.status,
    self: m.self,
    tags: m.tags,
    protocol: { min: v.pmin, max: v.pmax, current: v.pcur },
    delegate: { min: v.dmin, max: v.dmax, current: v.dcur },
    incarnation: m.incarnation,
    stateChangedAt: new Date(m.stateChange).toISOString(),
  };
}

function alone(name: string): MemberJson {
  const started = Date.now() - process.uptime() * 1000;
  return {
    name,
    address: null,
    port: null,
    state: 'alive',
    self: true,
    tags: {},
    protocol: null,
    delegate: null,
    incarnation: null,
    stateChangedAt: new Date(started).toISOString(),
  };
}
