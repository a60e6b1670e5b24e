// The slice of the Serf protocol (hashicorp/serf serf/messages.go, serf.go,
// delegate.go) a node needs so serf agents list it with tags and show
// `left` after a graceful leave: tags in the node meta, join/leave intents
// and user events as memberlist user messages, and a Serf-shaped push/pull
// user state.
import { MsgWriter, MsgpackError, asMap, decodeAt, getBool, getBytes, getUint, type MsgMap, type MsgValue } from './msgpack.js';

export const SerfMessageType = {
  leave: 0,
  join: 1,
  pushPull: 2,
  userEvent: 3,
  query: 4,
  queryResponse: 5,
  conflictResponse: 6,
  keyRequest: 7,
  keyResponse: 8,
  relay: 9,
} as const;

/**
 * First byte of our own user messages. Serf uses 0-9 and logs anything else
 * as an unknown type, so our messages pass through serf agents harmlessly.
 */
export const APP_MESSAGE_TYPE = 0x50;

const TAG_MAGIC = 0xff;

/** A Go map[string]string, sorted for stable bytes. */
function encodeStringMap(map: Record<string, string>): Buffer {
  const w = new MsgWriter();
  const keys = Object.keys(map).sort();
  w.mapHeader(keys.length);
  for (const k of keys) {
    w.str(k);
    w.str(map[k]!);
  }
  return w.bytes();
}

/** Serf's protocol >= 3 tag encoding: 0xff + msgpack map. */
export function encodeTags(tags: Record<string, string>): Buffer {
  return Buffer.concat([Buffer.from([TAG_MAGIC]), encodeStringMap(tags)]);
}

export function decodeTags(meta: Buffer | null): Record<string, string> {
  if (!meta || meta.length === 0 || meta[0] !== TAG_MAGIC) {
    // pre-protocol-3 serf put only the role in the meta
    return meta && meta.length > 0 ? { role: meta.toString('utf8') } : {};
  }
  const m = asMap(decodeAt(meta, 1).value, 'tags');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) if (Buffer.isBuffer(v)) out[k] = v.toString('utf8');
  return out;
}

/** Serf's Lamport clock. */
export class LamportClock {
  private t = 0;

  time(): number {
    return this.t;
  }

  increment(): number {
    return ++this.t;
  }

  witness(v: number): void {
    if (v >= this.t) this.t = v + 1;
  }
}

export function encodeJoinIntent(ltime: number, node: string): Buffer {
  const w = new MsgWriter();
  w.struct({ LTime: { kind: 'uint', value: ltime }, Node: { kind: 'str', value: node } });
  return Buffer.concat([Buffer.from([SerfMessageType.join]), w.bytes()]);
}

export function encodeLeaveIntent(ltime: number, node: string): Buffer {
  const w = new MsgWriter();
  w.struct({
    LTime: { kind: 'uint', value: ltime },
    Node: { kind: 'str', value: node },
    Prune: { kind: 'bool', value: false },
  });
  return Buffer.concat([Buffer.from([SerfMessageType.leave]), w.bytes()]);
}

/** serf's MaxQueueDepth: the most event, and the most query, broadcasts queued at once. */
export const MAX_QUEUE_DEPTH = 4096;

/** serf's EventBuffer: how many Lamport times of user events a member keeps, and so the length of a push/pull's Events. */
export const EVENT_BUFFER = 512;
/**
 * The most user events kept for one Lamport time. Serf keeps any number;
 * several only happen when members send events at the same moment, and a
 * bound keeps a flood of distinct forged events at one time from growing
 * the buffer (and every push/pull) without limit.
 */
export const EVENTS_PER_LTIME = 8;

/** A user event as serf keeps it (serf.go userEvent), compared byte for byte. */
export interface UserEvent {
  /** A Go string, kept as its bytes: text decoding would make distinct names equal. */
  name: Buffer;
  /** nil and empty, as Go writes them; they compare equal (bytes.Compare). */
  payload: Buffer | null;
}

/** The user events of one Lamport time (serf.go userEvents), one slot of the event buffer. */
export interface EventsAt {
  ltime: number;
  events: UserEvent[];
}

/**
 * A Lamport time we can hold: LTimes past 2^53 lose precision as numbers, and
 * one near 2^64 would leave our clock at a value that no longer encodes.
 */
function getLTime(m: MsgMap, key = 'LTime'): number {
  const t = getUint(m, key);
  if (!Number.isSafeInteger(t)) throw new MsgpackError(`msgpack: field ${key} is out of range`);
  return t;
}

function userEvent(m: MsgMap): UserEvent {
  return { name: getBytes(m, 'Name') ?? Buffer.alloc(0), payload: getBytes(m, 'Payload') };
}

/**
 * A user event message, `[3][messageUserEvent{LTime, Name, Payload, CC}]`.
 * Every field is checked as Go's decoder would, so what we pass on no serf
 * agent fails to read.
 */
export function decodeUserEvent(msg: Buffer): UserEvent & { ltime: number } {
  const m = asMap(decodeAt(msg, 1).value, 'user event');
  getBool(m, 'CC');
  return { ltime: getLTime(m), ...userEvent(m) };
}

/** The event buffer as serf's []*userEvents: one entry per slot, nil where a slot is empty. */
function encodeEventBuffer(slots: readonly (EventsAt | null)[]): Buffer {
  const w = new MsgWriter();
  w.arrayHeader(slots.length);
  for (const slot of slots) {
    if (!slot) {
      w.nil();
      continue;
    }
    const events = new MsgWriter();
    events.arrayHeader(slot.events.length);
    for (const e of slot.events) events.struct({ Name: { kind: 'bytes', value: e.name }, Payload: { kind: 'bytes', value: e.payload } });
    w.struct({ LTime: { kind: 'uint', value: slot.ltime }, Events: { kind: 'raw', value: events.bytes() } });
  }
  return w.bytes();
}

/**
 * A push/pull's Events: at most EVENT_BUFFER slots (serf's buffer is that
 * long), and of each slot only the first EVENTS_PER_LTIME events, the most a
 * member keeps for one time; the rest is not looked at.
 */
function decodeEventBuffer(v: MsgValue | undefined): (EventsAt | null)[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new MsgpackError('msgpack: Events is not an array');
  if (v.length > EVENT_BUFFER) throw new MsgpackError(`msgpack: Events has ${v.length} entries, more than the event buffer of ${EVENT_BUFFER}`);
  return v.map((slot) => {
    if (slot === null) return null;
    const m = asMap(slot, 'userEvents');
    const events = m['Events'] ?? [];
    if (!Array.isArray(events)) throw new MsgpackError('msgpack: userEvents.Events is not an array');
    return { ltime: getLTime(m), events: events.slice(0, EVENTS_PER_LTIME).map((e) => userEvent(asMap(e, 'userEvent'))) };
  });
}

/** Field of the Serf push/pull map that carries our delegate state; serf ignores unknown keys. */
const STATE_KEY = 'PodswarmState';

/**
 * A Serf messagePushPull: our clocks, the member status times and left
 * members we know (serf merges them as its own agents' ones), the recent
 * user events, plus the application state under an extra key.
 */
export function encodeSerfPushPull(pp: SerfPushPull): Buffer {
  const { statusLTimes, leftMembers } = pp;
  const w = new MsgWriter();
  const names = Object.keys(statusLTimes).sort();
  const status = new MsgWriter();
  status.mapHeader(names.length);
  for (const n of names) {
    status.str(n);
    status.uint(statusLTimes[n]!);
  }
  const left = new MsgWriter();
  left.arrayHeader(leftMembers.length);
  for (const n of leftMembers) left.str(n);
  w.struct(
    {
      LTime: { kind: 'uint', value: pp.ltime },
      StatusLTimes: { kind: 'raw', value: status.bytes() },
      LeftMembers: { kind: 'raw', value: left.bytes() },
      EventLTime: { kind: 'uint', value: pp.eventLTime },
      Events: { kind: 'raw', value: encodeEventBuffer(pp.events) },
      QueryLTime: { kind: 'uint', value: pp.queryLTime },
      [STATE_KEY]: { kind: 'bytes', value: pp.appState },
    },
    [STATE_KEY],
  );
  return Buffer.concat([Buffer.from([SerfMessageType.pushPull]), w.bytes()]);
}

export interface SerfPushPull {
  ltime: number;
  statusLTimes: Record<string, number>;
  leftMembers: string[];
  eventLTime: number;
  /** The event buffer's slots (serf's Events), null where empty. */
  events: readonly (EventsAt | null)[];
  queryLTime: number;
  appState: Buffer | null;
}

export function decodeSerfPushPull(buf: Buffer): SerfPushPull {
  if (buf[0] !== SerfMessageType.pushPull) throw new Error(`remote state has bad type prefix ${buf[0]}`);
  const m: MsgMap = asMap(decodeAt(buf, 1).value, 'serf push/pull');
  const statusLTimes: Record<string, number> = {};
  const status = m['StatusLTimes'];
  if (status !== undefined && status !== null) {
    const sm = asMap(status, 'StatusLTimes');
    for (const node of Object.keys(sm)) statusLTimes[node] = getUint(sm, node);
  }
  const left = m['LeftMembers'];
  const leftMembers = Array.isArray(left) ? left.filter((x): x is Buffer => Buffer.isBuffer(x)).map((x) => x.toString('utf8')) : [];
  return {
    ltime: getUint(m, 'LTime'),
    statusLTimes,
    leftMembers,
    eventLTime: getLTime(m, 'EventLTime'),
    events: decodeEventBuffer(m['Events']),
    queryLTime: getUint(m, 'QueryLTime'),
    appState: getBytes(m, STATE_KEY),
  };
}

/** serf's MemberStatus, as `serf members` shows it. */
export const SerfMemberStatus = { alive: 1, leaving: 2, left: 3, failed: 4 } as const;
export type SerfMemberStatus = (typeof SerfMemberStatus)[keyof typeof SerfMemberStatus];

/** A member as serf describes it (serf.go Member). */
export interface SerfMember {
  name: string;
  /** 4- or 16-byte IP (Go's net.IP) */
  addr: Buffer;
  port: number;
  tags: Record<string, string>;
  status: SerfMemberStatus;
  /** pmin, pmax, pcur, dmin, dmax, dcur */
  vsn: readonly number[];
}

/**
 * The answer to serf's `_serf_conflict` query: `[6][Member]`, or `[6][nil]`
 * from a member that does not know the node (serf encodes a nil *Member then;
 * the asker counts it as a response whose address does not match).
 */
export function encodeConflictResponse(m: SerfMember | null): Buffer {
  const w = new MsgWriter();
  if (!m) w.nil();
  else {
    const [pmin = 0, pmax = 0, pcur = 0, dmin = 0, dmax = 0, dcur = 0] = m.vsn;
    w.struct({
      Name: { kind: 'str', value: m.name },
      Addr: { kind: 'bytes', value: m.addr },
      Port: { kind: 'uint', value: m.port },
      Tags: { kind: 'raw', value: encodeStringMap(m.tags) },
      Status: { kind: 'int', value: m.status },
      ProtocolMin: { kind: 'uint', value: pmin },
      ProtocolMax: { kind: 'uint', value: pmax },
      ProtocolCur: { kind: 'uint', value: pcur },
      DelegateMin: { kind: 'uint', value: dmin },
      DelegateMax: { kind: 'uint', value: dmax },
      DelegateCur: { kind: 'uint', value: dcur },
    });
  }
  return Buffer.concat([Buffer.from([SerfMessageType.conflictResponse]), w.bytes()]);
}
