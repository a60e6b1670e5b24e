// memberlist message types and their Go structs (net.go), encoded byte for byte.
import { MsgWriter, MsgpackIncomplete, asMap, decodeAt, encodeStruct, getBool, getBytes, getInt, getStr, getUint, type MsgValue } from './msgpack.js';

/** Wire type bytes; the numbers are part of the protocol. */
export const MessageType = {
  ping: 0,
  indirectPing: 1,
  ackResp: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nackResp: 11,
  hasCrc: 12,
  err: 13,
  hasLabel: 244,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export const NodeStateType = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;
export type NodeStateType = (typeof NodeStateType)[keyof typeof NodeStateType];

export interface Ping {
  seqNo: number;
  node: string;
  sourceAddr: Buffer | null;
  sourcePort: number;
  sourceNode: string;
}
export interface IndirectPingReq extends Ping {
  target: Buffer;
  port: number;
  nack: boolean;
}
export interface AckResp {
  seqNo: number;
  payload: Buffer | null;
}
export interface NackResp {
  seqNo: number;
}
export interface ErrResp {
  error: string;
}
export interface Suspect {
  incarnation: number;
  node: string;
  from: string;
}
export type Dead = Suspect;
export interface Alive {
  incarnation: number;
  node: string;
  addr: Buffer;
  port: number;
  meta: Buffer | null;
  /** pmin, pmax, pcur, dmin, dmax, dcur */
  vsn: Buffer | null;
}
export interface PushPullHeader {
  nodes: number;
  userStateLen: number;
  join: boolean;
}
export interface PushNodeState {
  name: string;
  addr: Buffer;
  port: number;
  meta: Buffer | null;
  incarnation: number;
  state: NodeStateType;
  vsn: Buffer | null;
}
export interface UserMsgHeader {
  userMsgLen: number;
}
export interface Compress {
  algo: number;
  buf: Buffer;
}

const SOURCE_OMIT = ['SourceAddr', 'SourcePort', 'SourceNode'] as const;

function typed(t: MessageType, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([t]), body]);
}

export function encodePingBody(p: Ping): Buffer {
  return encodeStruct(
    {
      SeqNo: { kind: 'uint', value: p.seqNo },
      Node: { kind: 'str', value: p.node },
      SourceAddr: { kind: 'bytes', value: p.sourceAddr },
      SourcePort: { kind: 'uint', value: p.sourcePort },
      SourceNode: { kind: 'str', value: p.sourceNode },
    },
    SOURCE_OMIT,
  );
}

export const encodePing = (p: Ping): Buffer => typed(MessageType.ping, encodePingBody(p));

export function encodeIndirectPing(p: IndirectPingReq): Buffer {
  return typed(
    MessageType.indirectPing,
    encodeStruct(
      {
        SeqNo: { kind: 'uint', value: p.seqNo },
        Target: { kind: 'bytes', value: p.target },
        Port: { kind: 'uint', value: p.port },
        Node: { kind: 'str', value: p.node },
        Nack: { kind: 'bool', value: p.nack },
        SourceAddr: { kind: 'bytes', value: p.sourceAddr },
        SourcePort: { kind: 'uint', value: p.sourcePort },
        SourceNode: { kind: 'str', value: p.sourceNode },
      },
      SOURCE_OMIT,
    ),
  );
}

export function encodeAck(a: AckResp): Buffer {
  return typed(MessageType.ackResp, encodeStruct({ SeqNo: { kind: 'uint', value: a.seqNo }, Payload: { kind: 'bytes', value: a.payload } }));
}

export const encodeNack = (n: NackResp): Buffer => typed(MessageType.nackResp, encodeStruct({ SeqNo: { kind: 'uint', value: n.seqNo } }));

export const encodeErr = (e: ErrResp): Buffer => typed(MessageType.err, encodeStruct({ Error: { kind: 'str', value: e.error } }));

function suspectLike(t: MessageType, s: Suspect): Buffer {
  return typed(
    t,
    encodeStruct({
      Incarnation: { kind: 'uint', value: s.incarnation },
      Node: { kind: 'str', value: s.node },
      From: { kind: 'str', value: s.from },
    }),
  );
}
export const encodeSuspect = (s: Suspect): Buffer => suspectLike(MessageType.suspect, s);
export const encodeDead = (d: Dead): Buffer => suspectLike(MessageType.dead, d);

export function encodeAlive(a: Alive): Buffer {
  return typed(
    MessageType.alive,
    encodeStruct({
      Incarnation: { kind: 'uint', value: a.incarnation },
      Node: { kind: 'str', value: a.node },
      Addr: { kind: 'bytes', value: a.addr },
      Port: { kind: 'uint', value: a.port },
      Meta: { kind: 'bytes', value: a.meta },
      Vsn: { kind: 'bytes', value: a.vsn },
    }),
  );
}

export function encodePushPullHeaderBody(h: PushPullHeader): Buffer {
  return encodeStruct({
    Nodes: { kind: 'int', value: h.nodes },
    UserStateLen: { kind: 'int', value: h.userStateLen },
    Join: { kind: 'bool', value: h.join },
  });
}

export function encodePushNodeStateBody(n: PushNodeState): Buffer {
  return encodeStruct({
    Name: { kind: 'str', value: n.name },
    Addr: { kind: 'bytes', value: n.addr },
    Port: { kind: 'uint', value: n.port },
    Meta: { kind: 'bytes', value: n.meta },
    Incarnation: { kind: 'uint', value: n.incarnation },
    State: { kind: 'int', value: n.state },
    Vsn: { kind: 'bytes', value: n.vsn },
  });
}

/** `[6][header][nodes...][user state]`, as one unit with no outer length. */
export function encodePushPull(join: boolean, nodes: readonly PushNodeState[], userState: Buffer | null): Buffer {
  const user = userState ?? Buffer.alloc(0);
  return Buffer.concat([
    Buffer.from([MessageType.pushPull]),
    encodePushPullHeaderBody({ nodes: nodes.length, userStateLen: user.length, join }),
    ...nodes.map(encodePushNodeStateBody),
    user,
  ]);
}

export function encodeUserMsgHeaderBody(h: UserMsgHeader): Buffer {
  return encodeStruct({ UserMsgLen: { kind: 'int', value: h.userMsgLen } });
}

export function encodeCompress(c: Compress): Buffer {
  const w = new MsgWriter();
  w.struct({ Algo: { kind: 'uint', value: c.algo }, Buf: { kind: 'bytes', value: c.buf } });
  return typed(MessageType.compress, w.bytes());
}

// ---- decoding (bodies without the type byte) ----

function decodeMap(buf: Buffer, what: string) {
  return asMap(decodeAt(buf, 0).value, what);
}

export function decodePing(body: Buffer): Ping {
  const m = decodeMap(body, 'ping');
  return {
    seqNo: getUint(m, 'SeqNo'),
    node: getStr(m, 'Node'),
    sourceAddr: getBytes(m, 'SourceAddr'),
    sourcePort: getUint(m, 'SourcePort'),
    sourceNode: getStr(m, 'SourceNode'),
  };
}

export function decodeIndirectPing(body: Buffer): IndirectPingReq {
  const m = decodeMap(body, 'indirectPingReq');
  return {
    seqNo: getUint(m, 'SeqNo'),
    target: getBytes(m, 'Target') ?? Buffer.alloc(0),
    port: getUint(m, 'Port'),
    node: getStr(m, 'Node'),
    nack: getBool(m, 'Nack'),
    sourceAddr: getBytes(m, 'SourceAddr'),
    sourcePort: getUint(m, 'SourcePort'),
    sourceNode: getStr(m, 'SourceNode'),
  };
}

export function decodeAck(body: Buffer): AckResp {
  const m = decodeMap(body, 'ackResp');
  return { seqNo: getUint(m, 'SeqNo'), payload: getBytes(m, 'Payload') };
}

export function decodeNack(body: Buffer): NackResp {
  return { seqNo: getUint(decodeMap(body, 'nackResp'), 'SeqNo') };
}

export function decodeErr(body: Buffer): ErrResp {
  return { error: getStr(decodeMap(body, 'errResp'), 'Error') };
}

export function decodeSuspect(body: Buffer): Suspect {
  const m = decodeMap(body, 'suspect/dead');
  return { incarnation: getUint(m, 'Incarnation'), node: getStr(m, 'Node'), from: getStr(m, 'From') };
}
export const decodeDead = decodeSuspect;

export function decodeAlive(body: Buffer): Alive {
  const m = decodeMap(body, 'alive');
  return {
    incarnation: getUint(m, 'Incarnation'),
    node: getStr(m, 'Node'),
    addr: getBytes(m, 'Addr') ?? Buffer.alloc(0),
    port: getUint(m, 'Port'),
    meta: getBytes(m, 'Meta'),
    vsn: getBytes(m, 'Vsn'),
  };
}

export function decodeCompress(body: Buffer): Compress {
  const m = decodeMap(body, 'compress');
  return { algo: getUint(m, 'Algo'), buf: getBytes(m, 'Buf') ?? Buffer.alloc(0) };
}

export const MAX_PUSH_STATE_NODES = 1024 * 1024;
export const MAX_PUSH_STATE_BYTES = 20 * 1024 * 1024;

export interface PushPull {
  join: boolean;
  nodes: PushNodeState[];
  userState: Buffer | null;
}

/** A push/pull header, its counts checked against memberlist's limits. */
export function pushPullHeader(v: MsgValue): PushPullHeader {
  const h = asMap(v, 'pushPullHeader');
  const nodes = getInt(h, 'Nodes');
  const userStateLen = getInt(h, 'UserStateLen');
  if (nodes < 0 || nodes > MAX_PUSH_STATE_NODES) throw new Error(`number of nodes in header (${nodes}) exceeds limit`);
  if (userStateLen < 0 || userStateLen > MAX_PUSH_STATE_BYTES) throw new Error(`user state length (${userStateLen}) exceeds limit`);
  return { nodes, userStateLen, join: getBool(h, 'Join') };
}

export function pushNodeState(v: MsgValue): PushNodeState {
  const m = asMap(v, 'pushNodeState');
  return {
    name: getStr(m, 'Name'),
    addr: getBytes(m, 'Addr') ?? Buffer.alloc(0),
    port: getUint(m, 'Port'),
    meta: getBytes(m, 'Meta'),
    incarnation: getUint(m, 'Incarnation'),
    state: getInt(m, 'State') as NodeStateType,
    vsn: getBytes(m, 'Vsn'),
  };
}

/** Body of a push/pull message (after the type byte), all of it at hand. */
export function decodePushPull(body: Buffer): PushPull {
  let { value, end } = decodeAt(body, 0);
  const h = pushPullHeader(value);
  const nodes: PushNodeState[] = [];
  for (let i = 0; i < h.nodes; i++) {
    ({ value, end } = decodeAt(body, end));
    nodes.push(pushNodeState(value));
  }
  let userState: Buffer | null = null;
  if (h.userStateLen > 0) {
    if (body.length - end < h.userStateLen) throw new MsgpackIncomplete(`failed to read full user state (${body.length - end} / ${h.userStateLen})`);
    userState = Buffer.from(body.subarray(end, end + h.userStateLen));
  }
  return { join: h.join, nodes, userState };
}

/** The payload length a TCP user message header announces, checked against the limit. */
export function userMsgLen(v: MsgValue): number {
  const len = getInt(asMap(v, 'userMsgHeader'), 'UserMsgLen');
  if (len < 0 || len > MAX_PUSH_STATE_BYTES) throw new Error('bad user message length');
  return len;
}

/** Body of a TCP user message: header then the raw payload. */
export function decodeStreamUserMsg(body: Buffer): Buffer {
  const { value, end } = decodeAt(body, 0);
  const len = userMsgLen(value);
  if (body.length - end < len) throw new MsgpackIncomplete('user message truncated');
  return Buffer.from(body.subarray(end, end + len));
}

export function encodeStreamUserMsg(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([MessageType.user]), encodeUserMsgHeaderBody({ userMsgLen: payload.length }), payload]);
}

// ---- compound ----

export const MAX_COMPOUND_PARTS = 255;

/** `[7][n][len u16be]...[msgs]`; callers split lists longer than 255. */
export function makeCompound(msgs: readonly Buffer[]): Buffer {
  if (msgs.length > MAX_COMPOUND_PARTS) throw new RangeError('compound holds at most 255 messages');
  const head = Buffer.alloc(2 + 2 * msgs.length);
  head[0] = MessageType.compound;
  head[1] = msgs.length;
  msgs.forEach((m, i) => head.writeUInt16BE(m.length, 2 + 2 * i));
  return Buffer.concat([head, ...msgs]);
}

export function makeCompounds(msgs: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < msgs.length; i += MAX_COMPOUND_PARTS) out.push(makeCompound(msgs.slice(i, i + MAX_COMPOUND_PARTS)));
  return out;
}

/** Body after the type byte. A truncated tail is counted, not fatal. */
export function decodeCompound(body: Buffer): { parts: Buffer[]; truncated: number } {
  if (body.length < 1) throw new Error('missing compound length byte');
  const n = body[0]!;
  if (body.length < 1 + 2 * n) throw new Error('truncated len slice');
  const parts: Buffer[] = [];
  let off = 1 + 2 * n;
  for (let i = 0; i < n; i++) {
    const len = body.readUInt16BE(1 + 2 * i);
    if (body.length - off < len) return { parts, truncated: n - i };
    parts.push(body.subarray(off, off + len));
    off += len;
  }
  return { parts, truncated: 0 };
}
