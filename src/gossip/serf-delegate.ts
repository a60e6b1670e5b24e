// Serf as the layer above memberlist (hashicorp/serf delegate.go, and serf.go's
// join and leave): what memberlist calls its delegate for. It keeps Serf's
// clocks, member intents and recent user events, puts our tags in the node
// meta, wraps the push/pull user state in Serf's, and handles Serf's own user
// messages as a serf agent does, so Serf's dissemination does not stop at
// podswarm-dns nodes. The application's messages and state (APP_MESSAGE_TYPE,
// PodswarmState) go to the application's delegate.
import type { GossipCore } from './core.js';
import type { GossipDelegate, MemberlistDelegate } from './delegate.js';
import { LogLimiter } from './log-limit.js';
import { APP_MESSAGE_TYPE, LamportClock, SerfMessageType, decodeSerfPushPull, decodeTags, encodeSerfPushPull, encodeTags } from './serf.js';
import { EventLog, handleUserEvent, mergeEvents } from './serf-events.js';
import { SerfIntents, handleIntent, mergeIntents, queueJoinIntent, queueLeaveIntent, resendLeaveOfGone } from './serf-intents.js';
import { QueryLog, handleQuery, handleRelay } from './serf-query.js';

export class SerfDelegate implements MemberlistDelegate {
  /** Serf's member clock. */
  readonly clock = new LamportClock();
  /** LTime of our latest serf join intent: serf's status time for us. */
  joinLTime = 0;
  /** Serf's member intents (serf-intents.ts). */
  readonly intents = new SerfIntents();
  /** Serf queries seen, for de-duplication (serf-query.ts). */
  readonly queries = new QueryLog();
  /** Serf's event clock and recent user events (serf-events.ts). */
  readonly events = new EventLog();
  /** For the log lines about Serf messages that any peer can cause at will. */
  readonly peerLog: LogLimiter;

  constructor(
    readonly core: GossipCore,
    private readonly app: GossipDelegate,
  ) {
    this.peerLog = new LogLimiter(core.log);
    // serf's eventDelegate NotifyLeave: memberlist saw a member go (left or dead)
    for (const event of ['leave', 'dead'] as const) core.events.on(event, (m) => resendLeaveOfGone(this, m.name));
  }

  nodeMeta(tags: Record<string, string>): Buffer {
    return encodeTags(tags);
  }

  tagsOf(meta: Buffer | null): Record<string, string> {
    return decodeTags(meta);
  }

  appMessage(msg: Buffer): Buffer {
    return Buffer.concat([Buffer.from([APP_MESSAGE_TYPE]), msg]);
  }

  /** `msg` starts with its serf message type, or with ours. */
  notifyMsg(msg: Buffer, from: string): void {
    switch (msg[0]) {
      case APP_MESSAGE_TYPE:
        return this.app.onUserMessage?.(msg.subarray(1), from);
      case SerfMessageType.join:
      case SerfMessageType.leave:
        return handleIntent(this, msg);
      case SerfMessageType.userEvent:
        return handleUserEvent(this, msg, from);
      case SerfMessageType.query:
        return handleQuery(this, msg);
      case SerfMessageType.relay:
        return handleRelay(this.core, msg);
      default:
      // query responses (we ask no queries): nothing for this node to do
    }
  }

  localState(join: boolean): Buffer {
    const appState = this.app.localState?.(join) ?? null;
    const { statusLTimes, leftMembers } = this.intents.snapshot(this.core);
    return encodeSerfPushPull({
      ltime: this.clock.time(),
      statusLTimes: { ...statusLTimes, [this.core.config.name]: this.joinLTime },
      leftMembers,
      eventLTime: this.events.clock.time(),
      events: this.events.buffer(),
      queryLTime: this.queries.time(),
      appState,
    });
  }

  mergeRemoteState(state: Buffer, join: boolean, from: string): void {
    const pp = decodeSerfPushPull(state);
    if (pp.ltime > 0) this.clock.witness(pp.ltime - 1);
    if (pp.queryLTime > 0) this.queries.witness(pp.queryLTime - 1);
    mergeIntents(this, pp);
    mergeEvents(this, pp, from);
    if (pp.appState) this.app.mergeRemoteState?.(pp.appState, join, from);
  }

  joined(): void {
    queueJoinIntent(this);
  }

  leaving(): Promise<void> {
    return new Promise((resolve) => queueLeaveIntent(this, resolve));
  }
}
