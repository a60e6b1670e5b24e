// Serf queries as a Serf member handles them (serf.go handleQuery, query.go,
// delegate.go): a query new to this node is passed on (unless it says not
// to), acked when asked, and, when it is one of Serf's internal key queries
// or its name conflict query, answered directly to the asker over UDP and
// through `RelayFactor` other members. Relay messages that other members ask
// us to forward are sent on.
import { randomInt } from 'node:crypto';
import { ipFromWire } from './address.js';
import { RotatingNames } from './broadcast.js';
import type { GossipCore } from './core.js';
import { MessageType, NodeStateType } from './messages.js';
import { MsgWriter, asMap, decodeAt, getBytes, getStr, getUint, type MsgMap } from './msgpack.js';
import { quote } from './quote.js';
import { MAX_QUEUE_DEPTH, SerfMessageType } from './serf.js';
import { CONFLICT_QUERY, answerConflictQuery } from './serf-conflict.js';
import type { SerfDelegate } from './serf-delegate.js';
import { answerKeyQuery, isKeyQuery } from './serf-keys.js';
import { EAGER_FANOUT, sendSerfNow, sendSerfPacket } from './serf-send.js';

/** serf's QueryBuffer: how many query LTimes are remembered for de-duplication. */
const QUERY_BUFFER = 512;
/**
 * The most queries remembered (and so passed on) for one Lamport time.
 * Serf keeps any number; many only happen when members ask at the same
 * moment, and a bound keeps a flood of forged query IDs at one time from
 * growing the buffer without limit.
 */
export const QUERIES_PER_LTIME = 64;
/** serf's QueryResponseSizeLimit. */
export const QUERY_RESPONSE_SIZE_LIMIT = 1024;
const FLAG_ACK = 1;
const FLAG_NO_BROADCAST = 2;
const FILTER_NODE = 0;
const FILTER_TAG = 1;

export interface SerfQuery {
  ltime: number;
  id: number;
  /** Where the asker wants the answers. */
  addr: Buffer;
  port: number;
  sourceNode: string;
  filters: Buffer[];
  flags: number;
  relayFactor: number;
  name: string;
  payload: Buffer;
}

export function decodeQuery(msg: Buffer): SerfQuery {
  const m = asMap(decodeAt(msg, 1).value, 'query');
  const filters = m['Filters'];
  return {
    ltime: getUint(m, 'LTime'),
    id: getUint(m, 'ID'),
    addr: getBytes(m, 'Addr') ?? Buffer.alloc(0),
    port: getUint(m, 'Port'),
    sourceNode: getStr(m, 'SourceNode'),
    filters: Array.isArray(filters) ? filters.filter((f): f is Buffer => Buffer.isBuffer(f)) : [],
    flags: getUint(m, 'Flags'),
    relayFactor: getUint(m, 'RelayFactor'),
    name: getStr(m, 'Name'),
    payload: getBytes(m, 'Payload') ?? Buffer.alloc(0),
  };
}

/** The query LTimes and IDs seen, as serf's queryBuffer; the query clock with them. */
export class QueryLog {
  private readonly buffer: ({ ltime: number; ids: number[] } | undefined)[] = new Array(QUERY_BUFFER);
  private clock = 0;
  /** The broadcast queue names of the queries passed on: at most MAX_QUEUE_DEPTH queued, the newest. */
  readonly broadcastNames = new RotatingNames('serf-query', MAX_QUEUE_DEPTH);

  time(): number {
    return this.clock;
  }

  witness(ltime: number): void {
    if (ltime >= this.clock) this.clock = ltime + 1;
  }

  /** True when the query is new (and records it); false when seen before, too old to tell, or its time has no room left. */
  firstSight(ltime: number, id: number): boolean {
    this.witness(ltime);
    if (this.clock > QUERY_BUFFER && ltime < this.clock - QUERY_BUFFER) return false;
    const idx = ltime % QUERY_BUFFER;
    let seen = this.buffer[idx];
    if (seen && seen.ltime === ltime) {
      if (seen.ids.includes(id) || seen.ids.length >= QUERIES_PER_LTIME) return false;
    } else {
      seen = { ltime, ids: [] };
      this.buffer[idx] = seen;
    }
    seen.ids.push(id);
    return true;
  }
}

export function handleQuery(serf: SerfDelegate, msg: Buffer): void {
  const { core } = serf;
  const q = decodeQuery(msg);
  if (!serf.queries.firstSight(q.ltime, q.id)) return;
  // pass it on first: serf rebroadcasts even what it does not answer
  if ((q.flags & FLAG_NO_BROADCAST) === 0) {
    core.broadcasts.queue({ name: serf.queries.broadcastNames.next(), msg: Buffer.concat([Buffer.from([MessageType.user]), msg]) });
    sendSerfNow(core, msg, EAGER_FANOUT, () => true, `query ${quote(q.name)}`);
  }
  if (!matchesFilters(core, q)) return;
  if ((q.flags & FLAG_ACK) !== 0) respond(core, q, { ack: true, payload: null });
  if (isKeyQuery(q.name)) {
    // the payload travels as a raw string (up to 5 bytes of header) inside the response
    const room = QUERY_RESPONSE_SIZE_LIMIT - encodeResponse(core, q, { ack: false, payload: Buffer.alloc(0) }).length - 5;
    void answerKeyQuery(core, q.name, q.payload, room).then((payload) => respond(core, q, { ack: false, payload }));
  } else if (q.name === CONFLICT_QUERY) {
    const payload = answerConflictQuery(serf, q.payload);
    if (payload) respond(core, q, { ack: false, payload });
  }
}

/** serf's shouldProcessQuery: every node filter names us, every tag filter's regexp matches our tag. */
function matchesFilters(core: GossipCore, q: SerfQuery): boolean {
  for (const f of q.filters) {
    if (f.length < 1) return false;
    const v = decodeAt(f, 1).value;
    if (f[0] === FILTER_NODE) {
      if (!Array.isArray(v) || !v.some((n) => Buffer.isBuffer(n) && n.toString('utf8') === core.config.name)) return false;
    } else if (f[0] === FILTER_TAG) {
      const m = asMap(v, 'tag filter');
      let re: RegExp;
      try {
        re = new RegExp(getStr(m, 'Expr'));
      } catch (err) {
        core.log.warn(`serf: failed to compile filter regex (${quote(getStr(m, 'Expr'))}): ${(err as Error).message}`);
        return false;
      }
      if (!re.test(core.config.tags[getStr(m, 'Tag')] ?? '')) return false;
    } else {
      core.log.warn(`serf: query has unrecognized filter type: ${f[0]}`);
      return false;
    }
  }
  return true;
}

function encodeResponse(core: GossipCore, q: SerfQuery, r: { ack: boolean; payload: Buffer | null }): Buffer {
  const w = new MsgWriter();
  w.struct({
    LTime: { kind: 'uint', value: q.ltime },
    ID: { kind: 'uint', value: q.id },
    From: { kind: 'str', value: core.config.name },
    Flags: { kind: 'uint', value: r.ack ? FLAG_ACK : 0 },
    Payload: { kind: 'bytes', value: r.payload },
  });
  return Buffer.concat([Buffer.from([SerfMessageType.queryResponse]), w.bytes()]);
}

/** Sends an ack or a response to the asker, and relays copies through `RelayFactor` other members (serf's relayResponse). */
function respond(core: GossipCore, q: SerfQuery, r: { ack: boolean; payload: Buffer | null }): void {
  const resp = encodeResponse(core, q, r);
  if (resp.length > QUERY_RESPONSE_SIZE_LIMIT) {
    core.log.error(`serf: failed to respond to ${quote(q.name)}: response exceeds limit of ${QUERY_RESPONSE_SIZE_LIMIT} bytes`);
    return;
  }
  const host = ipFromWire(q.addr);
  sendSerfPacket(core, host, q.port, resp, `query response to ${quote(q.sourceNode)}`);
  if (q.relayFactor === 0) return;
  const live = core.nodes.filter((n) => n.state === NodeStateType.alive);
  if (live.length < q.relayFactor + 1) return;
  const relay = Buffer.concat([encodeRelayHeader(q.addr, q.port, q.sourceNode), resp]);
  if (relay.length > QUERY_RESPONSE_SIZE_LIMIT) return;
  const candidates = live.filter((n) => n.vsn[1] >= 5 && n.name !== core.config.name && core.canReach(n));
  for (let i = 0; i < q.relayFactor && candidates.length > 0; i++) {
    const [m] = candidates.splice(randomInt(candidates.length), 1);
    sendSerfPacket(core, ipFromWire(m!.addr), m!.port, relay, `relayed query response via ${quote(m!.name)}`);
  }
}

/** `[9][relayHeader{DestAddr: net.UDPAddr, DestName}]`, followed by the message to forward. */
function encodeRelayHeader(ip: Buffer, port: number, name: string): Buffer {
  const addr = new MsgWriter();
  addr.struct({ IP: { kind: 'bytes', value: ip }, Port: { kind: 'int', value: port }, Zone: { kind: 'str', value: '' } });
  const w = new MsgWriter();
  w.struct({ DestAddr: { kind: 'raw', value: addr.bytes() }, DestName: { kind: 'str', value: name } });
  return Buffer.concat([Buffer.from([SerfMessageType.relay]), w.bytes()]);
}

/** A relay message: forwards what follows the header to the address in it, as serf does. */
export function handleRelay(core: GossipCore, msg: Buffer): void {
  const { value, end } = decodeAt(msg, 1);
  const dest: MsgMap = asMap(asMap(value, 'relay header')['DestAddr'] ?? null, 'relay destination');
  const ip = getBytes(dest, 'IP');
  if (!ip || (ip.length !== 4 && ip.length !== 16)) throw new Error('relay destination has no IP address');
  sendSerfPacket(core, ipFromWire(ip), getUint(dest, 'Port'), Buffer.from(msg.subarray(end)), 'relayed serf message');
}
