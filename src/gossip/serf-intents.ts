// Serf's join and leave intents as a Serf member handles them (serf.go
// handleNodeJoinIntent, handleNodeLeaveIntent, delegate.go LocalState and
// MergeRemoteState): an intent newer than the last one seen for its node is
// passed on, so serf agents hear of a clean leave through podswarm-dns nodes
// too and show it `left`, not `failed`; a leave intent about this node while
// it is not leaving is refuted with a newer join intent (`serf force-leave`
// of a live node).
import type { GossipCore } from './core.js';
import { MessageType, NodeStateType } from './messages.js';
import { asMap, decodeAt, getStr, getUint } from './msgpack.js';
import { SerfMemberStatus, SerfMessageType, encodeJoinIntent, encodeLeaveIntent, type SerfPushPull } from './serf.js';
import type { SerfDelegate } from './serf-delegate.js';
import { EAGER_FANOUT, sendSerfNow } from './serf-send.js';
import type { Member } from './state.js';

type IntentType = typeof SerfMessageType.join | typeof SerfMessageType.leave;

interface Seen {
  type: IntentType;
  ltime: number;
  /** Date.now() when recorded, to forget nodes that never became members. */
  at: number;
}

/** serf's RecentIntentTimeout: how long an intent about a node that is no member is kept. */
const RECENT_INTENT_MS = 5 * 60_000;
/** How often the intents of nodes that are gone are swept. */
const SWEEP_MS = 60_000;

/** The newest intent seen per node: serf's statusLTime of its members and its recentIntents of the others. */
export class SerfIntents {
  private readonly seen = new Map<string, Seen>();
  /** Set before our leave intent goes out, so a copy coming back is not refuted. */
  leaving = false;
  private lastSweep = Date.now();

  /** Records the intent; true when it is newer than anything seen for its node (pass it on). */
  record(node: string, type: IntentType, ltime: number): boolean {
    const prev = this.seen.get(node);
    if (prev && ltime <= prev.ltime) return false;
    this.seen.set(node, { type, ltime, at: Date.now() });
    return true;
  }

  /** The status LTime of `node` (0 when none was seen). */
  ltime(node: string): number {
    return this.seen.get(node)?.ltime ?? 0;
  }

  /** The newest intent about `node`, if any. */
  last(node: string): { type: IntentType; ltime: number } | undefined {
    return this.seen.get(node);
  }

  /**
   * The member's status as a serf agent keeps it (serf.go handleNodeLeave):
   * `leaving` after a leave intent, and once memberlist no longer lists it
   * alive (left or dead), `left` when its last intent was a leave and
   * `failed` when not. Suspect is alive to serf.
   */
  status(m: Member): SerfMemberStatus {
    const leaving = this.seen.get(m.name)?.type === SerfMessageType.leave;
    if (m.state === NodeStateType.left || m.state === NodeStateType.dead) return leaving ? SerfMemberStatus.left : SerfMemberStatus.failed;
    return leaving ? SerfMemberStatus.leaving : SerfMemberStatus.alive;
  }

  /** For our push/pull: every member's status LTime, and the members serf would list as left. */
  snapshot(core: GossipCore): { statusLTimes: Record<string, number>; leftMembers: string[] } {
    this.sweep(core);
    const statusLTimes: Record<string, number> = {};
    const leftMembers: string[] = [];
    for (const [node, s] of this.seen) {
      const m = core.byName.get(node);
      if (!m) continue;
      statusLTimes[node] = s.ltime;
      if (this.status(m) === SerfMemberStatus.left) leftMembers.push(node);
    }
    return { statusLTimes, leftMembers };
  }

  /** Forgets intents about nodes that are no members and were recorded long ago. */
  private sweep(core: GossipCore): void {
    const now = Date.now();
    if (now - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = now;
    for (const [node, s] of this.seen) if (!core.byName.has(node) && now - s.at > RECENT_INTENT_MS) this.seen.delete(node);
  }
}

/** A serf intent as a user message `[8][serf type][msgpack]`; a newer one about the same node replaces it in the queue. */
function queueIntent(core: GossipCore, node: string, serfMsg: Buffer): void {
  core.broadcasts.queue({ name: `serf-intent:${node}`, msg: Buffer.concat([Buffer.from([MessageType.user]), serfMsg]) });
}

/** serf's broadcastJoin: our join intent at the current member time (on start, on join, to refute). */
export function queueJoinIntent(serf: SerfDelegate): void {
  const { core } = serf;
  const ltime = serf.clock.time();
  serf.clock.witness(ltime);
  serf.joinLTime = ltime;
  serf.intents.record(core.config.name, SerfMessageType.join, ltime);
  queueIntent(core, core.config.name, encodeJoinIntent(ltime, core.config.name));
}

/**
 * Our leave intent, as serf's Leave sends it, and at once to every live
 * member too (sendSerfNow). `finished` once it has been gossiped its last
 * time.
 */
export function queueLeaveIntent(serf: SerfDelegate, finished: () => void): void {
  const { core } = serf;
  serf.intents.leaving = true;
  const ltime = serf.clock.time();
  serf.clock.increment();
  serf.intents.record(core.config.name, SerfMessageType.leave, ltime);
  const intent = encodeLeaveIntent(ltime, core.config.name);
  sendSerfNow(core, intent, Infinity, () => true, 'leave intent');
  core.broadcasts.queue({ name: `serf-intent:${core.config.name}`, msg: Buffer.concat([Buffer.from([MessageType.user]), intent]), finished });
}

/**
 * A join or leave intent from the cluster (`msg` starts with its serf type):
 * witnessed on the member clock, passed on when new, refuted when it says
 * that this node, which is not leaving, leaves.
 */
export function handleIntent(serf: SerfDelegate, msg: Buffer): void {
  const type = msg[0] as IntentType;
  const m = asMap(decodeAt(msg, 1).value, type === SerfMessageType.join ? 'join intent' : 'leave intent');
  const ltime = getUint(m, 'LTime');
  const node = getStr(m, 'Node');
  serf.clock.witness(ltime);
  if (!applyIntent(serf, node, type, ltime)) return;
  queueIntent(serf.core, node, Buffer.from(msg));
  // to the node it names too: a force-leave of a live node is for it to refute
  sendSerfNow(serf.core, msg, EAGER_FANOUT, () => true, 'intent');
}

/** The state change of one intent; true when it is new and should be passed on. */
function applyIntent(serf: SerfDelegate, node: string, type: IntentType, ltime: number): boolean {
  const { core } = serf;
  if (node === core.config.name && type === SerfMessageType.leave && !serf.intents.leaving && !core.left) {
    if (ltime <= serf.intents.ltime(node)) return false;
    core.log.debug('serf: refuting an older leave intent');
    serf.clock.witness(ltime);
    queueJoinIntent(serf);
    return false;
  }
  return serf.intents.record(node, type, ltime);
}

/**
 * A member memberlist saw go (left or dead) whose last serf intent was a
 * leave: its leave intent again, one LTime later, straight to every live
 * member. A serf agent that heard memberlist's dead message before the
 * intent marked the member `failed`; if a push/pull then carried the
 * leaving member's status time as a join (serf's LocalState lists a leaving
 * member that way), the original intent is no longer newer and the agent
 * stays `failed` until a push/pull with a node that lists it as left. One
 * past the leave's time is what serf's MergeRemoteState gives a left
 * member; agents that show it left already ignore it.
 */
export function resendLeaveOfGone(serf: SerfDelegate, node: string): void {
  const last = serf.intents.last(node);
  if (!last || last.type !== SerfMessageType.leave || node === serf.core.config.name) return;
  const ltime = last.ltime + 1;
  serf.clock.witness(ltime);
  serf.intents.record(node, SerfMessageType.leave, ltime);
  sendSerfNow(serf.core, encodeLeaveIntent(ltime, node), Infinity, () => true, 'leave intent of a member gone');
}

/** A serf push/pull's member times, as serf merges them: left members first, then the others' join times. Nothing is passed on. */
export function mergeIntents(serf: SerfDelegate, pp: SerfPushPull): void {
  const left = new Set(pp.leftMembers);
  for (const node of left) {
    const ltime = (pp.statusLTimes[node] ?? 0) + 1;
    serf.clock.witness(ltime);
    applyIntent(serf, node, SerfMessageType.leave, ltime);
  }
  for (const [node, ltime] of Object.entries(pp.statusLTimes)) {
    if (left.has(node)) continue;
    serf.clock.witness(ltime);
    applyIntent(serf, node, SerfMessageType.join, ltime);
  }
}
