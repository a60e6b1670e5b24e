// The slice of the Serf protocol (hashicorp/serf serf/messages.go, serf.go,
// delegate.go) a node needs so serf agents list it with tags and show
// `left` after a graceful leave: tags in the node meta, join/leave intents
// as memberlist user messages, and a Serf-shaped push/pull user state.
import { MsgWriter, asMap, decodeAt, getBytes, getUint, type MsgMap } from './msgpack.js';

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

/** Serf's protocol >= 3 tag encoding: 0xff + msgpack map (sorted for stable bytes). */
export function encodeTags(tags: Record<string, string>): Buffer {
  const w = new MsgWriter();
  const keys = Object.keys(tags).sort();
  w.mapHeader(keys.length);
  for (const k of keys) {
    w.str(k);
    w.str(tags[k]!);
  }
  return Buffer.concat([Buffer.from([TAG_MAGIC]), w.bytes()]);
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

/** Field of the Serf push/pull map that carries our delegate state; serf ignores unknown keys. */
const STATE_KEY = 'PodswarmState';

/**
 * A Serf messagePushPull: our clocks, the member status times and left
 * members we know (serf merges them as its own agents' ones), plus the
 * application state under an extra key.
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
  const empty = new MsgWriter();
  empty.arrayHeader(0);
  w.struct(
    {
      LTime: { kind: 'uint', value: pp.ltime },
      StatusLTimes: { kind: 'raw', value: status.bytes() },
      LeftMembers: { kind: 'raw', value: left.bytes() },
      EventLTime: { kind: 'uint', value: 0 },
      Events: { kind: 'raw', value: empty.bytes() },
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
    queryLTime: getUint(m, 'QueryLTime'),
    appState: getBytes(m, STATE_KEY),
  };
}
