// Serf user events (`serf event NAME PAYLOAD`) as a Serf member handles them
// (serf.go handleUserEvent, delegate.go NotifyMsg, LocalState and
// MergeRemoteState): every event is witnessed on the event clock, the recent
// ones are kept in serf's ring buffer to tell a new event from a copy, one new
// to this node is passed on by gossip, and the buffer travels in our push/pull
// and is merged from the other side's.
//
// podswarm-dns runs no event handlers and does nothing with an event itself:
// it only relays and remembers them, so that serf's dissemination does not
// lose what lands on a podswarm-dns node, and a serf agent that push/pulls
// with one catches up.
//
// Serf also ignores older events in two cases that do not apply here: those
// of a join push/pull when the join was asked without replay
// (eventJoinIgnore), and those from before its snapshot's clock after a
// restart (eventMinTime). Both keep handlers from running an event twice; a
// node without handlers keeps what it can, and an agent that joins through
// it without `-replay` still ignores them, by our EventLTime.

import { RotatingNames } from './broadcast.js';
import { MessageType } from './messages.js';
import { quote } from './quote.js';
import { EVENT_BUFFER, EVENTS_PER_LTIME, type EventsAt, LamportClock, MAX_QUEUE_DEPTH, type SerfPushPull, type UserEvent, decodeUserEvent } from './serf.js';
import type { SerfDelegate } from './serf-delegate.js';

/**
 * serf's UserEventSizeLimit, at its default: a serf agent sends no event
 * whose name and payload, or whose encoded message, is longer.
 */
export const USER_EVENT_SIZE_LIMIT = 512;

type Outcome = 'new' | 'seen' | 'old' | 'full';

/** serf's event clock and event buffer. */
export class EventLog {
  readonly clock = new LamportClock();
  private readonly slots: (EventsAt | null)[] = new Array<EventsAt | null>(EVENT_BUFFER).fill(null);
  /** The broadcast queue names of the events passed on: at most MAX_QUEUE_DEPTH queued, the newest. */
  readonly broadcastNames = new RotatingNames('serf-event', MAX_QUEUE_DEPTH);

  /** serf's handleUserEvent: records the event unless it was seen, is too old to tell, or its time has no room left. */
  record(ltime: number, event: UserEvent): Outcome {
    this.clock.witness(ltime);
    const now = this.clock.time();
    if (now > EVENT_BUFFER && ltime < now - EVENT_BUFFER) return 'old';
    const idx = ltime % EVENT_BUFFER;
    let slot = this.slots[idx];
    if (slot && slot.ltime === ltime) {
      if (slot.events.some((e) => sameEvent(e, event))) return 'seen';
      if (slot.events.length >= EVENTS_PER_LTIME) return 'full';
    } else {
      slot = { ltime, events: [] };
      this.slots[idx] = slot;
    }
    slot.events.push(event);
    return 'new';
  }

  /** The buffer for our push/pull, slot by slot as serf sends it. */
  buffer(): readonly (EventsAt | null)[] {
    return this.slots;
  }
}

function sameEvent(a: UserEvent, b: UserEvent): boolean {
  return a.name.equals(b.name) && (a.payload ?? Buffer.alloc(0)).equals(b.payload ?? Buffer.alloc(0));
}

/** How an event came: alone in a gossip message, or in a remote push/pull's event buffer. */
type Via = 'message' | 'push/pull';

/** A user event message from the cluster (`msg` starts with its serf type): passed on as it came when it is new. */
export function handleUserEvent(serf: SerfDelegate, msg: Buffer, from: string): void {
  let event: UserEvent & { ltime: number };
  try {
    event = decodeUserEvent(msg);
  } catch (err) {
    serf.peerLog.write('user event decode', 'error', `serf: Error decoding user event message: ${(err as Error).message} from=${from}`);
    return;
  }
  // passed on byte for byte, so bound the whole message, as serf bounds what it sends
  if (msg.length > USER_EVENT_SIZE_LIMIT) return dropOversized(serf, event, `an encoded message of ${msg.length} bytes`, from);
  if (remember(serf, event.ltime, event, 'message', from) !== 'new') return;
  serf.core.broadcasts.queue({ name: serf.events.broadcastNames.next(), msg: Buffer.concat([Buffer.from([MessageType.user]), msg]) });
}

/** The events of a remote push/pull, as serf's MergeRemoteState takes them: remembered, not passed on. */
export function mergeEvents(serf: SerfDelegate, pp: SerfPushPull, from: string): void {
  if (pp.eventLTime > 0) serf.events.clock.witness(pp.eventLTime - 1);
  for (const slot of pp.events) {
    if (!slot) continue;
    for (const event of slot.events) {
      const size = event.name.length + (event.payload?.length ?? 0);
      if (size > USER_EVENT_SIZE_LIMIT) dropOversized(serf, event, `${size} bytes of name and payload`, from);
      else remember(serf, slot.ltime, event, 'push/pull', from);
    }
  }
}

/** Records the event in the buffer and logs what became of it. */
function remember(serf: SerfDelegate, ltime: number, event: UserEvent, via: Via, from: string): Outcome {
  const outcome = serf.events.record(ltime, event);
  const name = quote(event.name.toString('utf8'));
  const at = `user event ${name} from time ${ltime}`;
  switch (outcome) {
    case 'new':
      serf.core.log.debug(`serf: ${at}: new, ${via === 'message' ? 'passed on' : 'from a push/pull'} from=${from}`);
      break;
    case 'old': {
      // A push/pull carries the other side's whole buffer, whose slots keep
      // events until a newer one takes their place: old ones are the rule
      // there, and serf's warning for each would be noise.
      const level = via === 'message' ? 'warn' : 'debug';
      serf.peerLog.write(
        `old user event (${via})`,
        level,
        `serf: received old event ${name} from time ${ltime} (current: ${serf.events.clock.time()}) from=${from}`,
      );
      break;
    }
    case 'full':
      serf.peerLog.write('user event time full', 'warn', `serf: dropping ${at}: ${EVENTS_PER_LTIME} other events at that time already from=${from}`);
      break;
  }
  return outcome;
}

function dropOversized(serf: SerfDelegate, event: UserEvent, size: string, from: string): void {
  serf.peerLog.write(
    'user event size',
    'warn',
    `serf: dropping user event ${quote(event.name.subarray(0, 64).toString('utf8'))}: ${size} exceeds the limit of ${USER_EVENT_SIZE_LIMIT} bytes from=${from}`,
  );
}
