// SWIM helpers: timing formulas, the broadcast queue, suspicion, serf tags
// and serf's user event buffer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TransmitLimitedQueue, retransmitLimit } from '../src/gossip/broadcast.js';
import {
  SerfMemberStatus,
  decodeSerfPushPull,
  decodeTags,
  decodeUserEvent,
  encodeConflictResponse,
  encodeJoinIntent,
  encodeLeaveIntent,
  encodeSerfPushPull,
  encodeTags,
} from '../src/gossip/serf.js';
import { SerfIntents } from '../src/gossip/serf-intents.js';
import { NodeStateType } from '../src/gossip/messages.js';
import { EventLog } from '../src/gossip/serf-events.js';
import { QueryLog } from '../src/gossip/serf-query.js';
import { MsgWriter, decode } from '../src/gossip/msgpack.js';
import { LogLimiter } from '../src/gossip/log-limit.js';
import { Awareness, Suspicion, pushPullScale, remainingSuspicionTime, suspicionTimeout } from '../src/gossip/state.js';

describe('SWIM formulas (memberlist util.go)', () => {
  it('suspicion timeout scales with log10(n)', () => {
    assert.equal(suspicionTimeout(4, 1, 1000), 4000);
    assert.equal(suspicionTimeout(4, 10, 1000), 4000);
    assert.equal(suspicionTimeout(4, 100, 1000), 8000);
    assert.equal(suspicionTimeout(4, 1000, 1000), 12000);
  });

  it('retransmit limit is RetransmitMult * ceil(log10(n+1))', () => {
    assert.equal(retransmitLimit(4, 0), 0);
    assert.equal(retransmitLimit(4, 1), 4);
    assert.equal(retransmitLimit(4, 9), 4);
    assert.equal(retransmitLimit(4, 10), 8);
    assert.equal(retransmitLimit(4, 99), 8);
  });

  it('push/pull interval grows past 32 nodes', () => {
    assert.equal(pushPullScale(30000, 32), 30000);
    assert.equal(pushPullScale(30000, 33), 60000);
    assert.equal(pushPullScale(30000, 64), 60000);
    assert.equal(pushPullScale(30000, 65), 90000);
  });

  it('confirmations shrink the remaining suspicion time towards min', () => {
    assert.equal(remainingSuspicionTime(0, 3, 0, 2000, 30000), 30000);
    assert.equal(remainingSuspicionTime(3, 3, 0, 2000, 30000), 2000);
    assert.equal(remainingSuspicionTime(1, 3, 0, 2000, 30000), 16000);
    assert.equal(remainingSuspicionTime(3, 3, 500, 2000, 30000), 1500);
  });

  it('awareness scales timeouts and is bounded', () => {
    const a = new Awareness(8);
    a.applyDelta(-5);
    assert.equal(a.scaleTimeout(1000), 1000);
    a.applyDelta(100);
    assert.equal(a.getHealthScore(), 7);
    assert.equal(a.scaleTimeout(1000), 8000);
  });

  it('suspicion fires after min with no required confirmations, earlier with confirmations', async () => {
    const fired: number[] = [];
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      const s = new Suspicion('a', 2, 30, 2000, (n) => {
        fired.push(n);
        resolve();
      });
      assert.equal(s.confirm('a'), false, 'the accuser does not confirm itself');
      assert.equal(s.confirm('b'), true);
      assert.equal(s.confirm('b'), false);
      assert.equal(s.confirm('c'), true);
    });
    assert.deepEqual(fired, [2]);
    assert.ok(Date.now() - t0 < 1000);
  });
});

describe('transmit-limited queue', () => {
  it('retransmits up to the limit, fewest sent first, and a newer message replaces an older one', () => {
    const q = new TransmitLimitedQueue(2, () => 5);
    let replaced = false;
    q.queue({ name: 'n1', msg: Buffer.from('old'), finished: () => (replaced = true) });
    q.queue({ name: 'n1', msg: Buffer.from('new') });
    assert.ok(replaced);
    q.queue({ name: null, msg: Buffer.from('user') });
    assert.deepEqual(q.getBroadcasts(2, 1000).map(String).sort(), ['new', 'user']);
    assert.equal(q.getBroadcasts(2, 1000).length, 2);
    assert.equal(q.size(), 0, 'limit 2*ceil(log10(6)) = 2 transmits');
  });

  it('respects the byte budget', () => {
    const q = new TransmitLimitedQueue(4, () => 3);
    q.queue({ name: 'a', msg: Buffer.alloc(600) });
    q.queue({ name: 'b', msg: Buffer.alloc(600) });
    assert.equal(q.getBroadcasts(2, 1000).length, 1);
    assert.equal(q.getBroadcasts(2, 1000).length, 1);
  });
});

describe('serf compatibility', () => {
  it('encodes tags exactly as the serf agent in the capture did', () => {
    const meta = encodeTags({ zone: 'east', role: 'dns' });
    assert.equal(meta.toString('hex'), 'ff82a4726f6c65a3646e73a47a6f6e65a465617374');
    assert.deepEqual(decodeTags(meta), { role: 'dns', zone: 'east' });
    assert.deepEqual(decodeTags(Buffer.from('ff80', 'hex')), {});
    assert.deepEqual(decodeTags(Buffer.from('web')), { role: 'web' });
  });

  it('encodes join and leave intents like serf', () => {
    // captured from serf: join {LTime:1, Node:"sb"}, leave {LTime:2, Node:"sb", Prune:false}
    assert.equal(encodeJoinIntent(1, 'sb').toString('hex'), '0182a54c54696d6501a44e6f6465a27362');
    assert.equal(encodeLeaveIntent(2, 'sb').toString('hex'), '0083a54c54696d6502a44e6f6465a27362a55072756e65c2');
  });

  it("answers a name conflict query with serf's Member, or nil for a node it does not know", () => {
    assert.equal(encodeConflictResponse(null).toString('hex'), '06c0');
    const resp = encodeConflictResponse({
      name: 'sb',
      addr: Buffer.from([127, 0, 0, 2]),
      port: 7946,
      tags: { role: 'web' },
      status: SerfMemberStatus.alive,
      vsn: [1, 5, 2, 2, 5, 4],
    });
    assert.equal(resp[0], 6);
    // maps decode with a null prototype
    const m = decode(resp.subarray(1)) as Record<string, object>;
    assert.deepEqual(
      { ...m, Tags: { ...m['Tags'] } },
      {
        Addr: Buffer.from([127, 0, 0, 2]),
        DelegateCur: 4,
        DelegateMax: 5,
        DelegateMin: 2,
        Name: Buffer.from('sb'),
        Port: 7946,
        ProtocolCur: 2,
        ProtocolMax: 5,
        ProtocolMin: 1,
        Status: 1,
        Tags: { role: Buffer.from('web') },
      },
    );
  });

  it("gives a member serf's status from memberlist's state and the member's last intent", () => {
    const intents = new SerfIntents();
    const member = (name: string, state: NodeStateType) => ({
      name,
      addr: Buffer.from([127, 0, 0, 1]),
      port: 1,
      meta: null,
      state,
      incarnation: 1,
      stateChange: 0,
      vsn: [1, 5, 2, 2, 5, 4] as [number, number, number, number, number, number],
    });
    intents.record('a', 1, 1);
    intents.record('b', 0, 2);
    assert.equal(intents.status(member('a', NodeStateType.suspect)), SerfMemberStatus.alive);
    assert.equal(intents.status(member('a', NodeStateType.dead)), SerfMemberStatus.failed);
    assert.equal(intents.status(member('b', NodeStateType.alive)), SerfMemberStatus.leaving);
    assert.equal(intents.status(member('b', NodeStateType.left)), SerfMemberStatus.left);
    assert.equal(intents.status(member('c', NodeStateType.alive)), SerfMemberStatus.alive);
  });
});

describe('serf user events (serf.go handleUserEvent)', () => {
  const ev = (name: string, payload: string | null = 'p') => ({ name: Buffer.from(name), payload: payload === null ? null : Buffer.from(payload) });

  it('keeps an event once: the same name and payload at the same time is a copy, a nil payload equals an empty one', () => {
    const log = new EventLog();
    assert.equal(log.record(5, ev('deploy')), 'new');
    assert.equal(log.record(5, ev('deploy')), 'seen');
    assert.equal(log.record(5, ev('deploy', 'other')), 'new');
    assert.equal(log.record(6, ev('deploy')), 'new');
    assert.equal(log.record(7, ev('x', null)), 'new');
    assert.equal(log.record(7, ev('x', '')), 'seen');
    // the clock is one past the newest time witnessed
    assert.equal(log.clock.time(), 8);
  });

  it('drops an event older than the buffer reaches, and bounds the events of one time', () => {
    const log = new EventLog();
    assert.equal(log.record(1000, ev('late')), 'new');
    assert.equal(log.record(1001 - 512, ev('edge')), 'new');
    assert.equal(log.record(1000 - 512, ev('old')), 'old');
    for (let i = 1; i < 8; i++) assert.equal(log.record(1000, ev(`e${i}`)), 'new');
    assert.equal(log.record(1000, ev('ninth')), 'full');
    // a newer time takes over the slot of the older one
    assert.equal(log.record(1000 + 512, ev('late')), 'new');
    assert.equal(log.buffer()[1000 % 512]!.ltime, 1512);
    assert.equal(log.buffer().length, 512);
  });

  it('keeps at most 4096 events queued for gossip, the newest, as serf prunes its event queue', () => {
    const log = new EventLog();
    const q = new TransmitLimitedQueue(4, () => 3);
    for (let i = 0; i <= 4096; i++) q.queue({ name: log.broadcastNames.next(), msg: Buffer.from([i & 0xff]) });
    assert.equal(q.size(), 4096);
  });

  it('keeps at most 4096 queries queued for gossip, and at most 64 of one time, as a flood of forged IDs would grow them', () => {
    const queries = new QueryLog();
    const q = new TransmitLimitedQueue(4, () => 3);
    let passedOn = 0;
    for (let id = 0; id < 100; id++) if (queries.firstSight(7, id)) passedOn++;
    assert.equal(passedOn, 64);
    assert.equal(queries.firstSight(7, 3), false);
    assert.equal(queries.firstSight(8, 0), true);
    for (let i = 0; i <= 4096; i++) q.queue({ name: queries.broadcastNames.next(), msg: Buffer.from([i & 0xff]) });
    assert.equal(q.size(), 4096);
  });

  it('carries the buffer in the push/pull as serf writes []*userEvents, and reads it back', () => {
    const log = new EventLog();
    log.record(3, ev('a'));
    log.record(3, ev('b', null));
    log.record(600, ev('c'));
    const pp = { ltime: 1, statusLTimes: {}, leftMembers: [], eventLTime: log.clock.time(), events: log.buffer(), queryLTime: 1, appState: null };
    const back = decodeSerfPushPull(encodeSerfPushPull(pp));
    assert.equal(back.eventLTime, 601);
    assert.deepEqual(back.events, log.buffer());
    // slot 3 as go-msgpack writes it: {Events: [{Name, Payload}, ...], LTime}
    const slot = new MsgWriter();
    slot.struct({
      LTime: { kind: 'uint', value: 3 },
      Events: { kind: 'raw', value: Buffer.from('9282a44e616d65a161a75061796c6f6164a17082a44e616d65a162a75061796c6f6164c0', 'hex') },
    });
    assert.ok(encodeSerfPushPull(pp).includes(slot.bytes()));
  });

  it('refuses what no serf member sends: a longer buffer than serf keeps, a time that does not fit, a field of the wrong type', () => {
    const state = (events: Buffer): Buffer => {
      const w = new MsgWriter();
      w.struct({ LTime: { kind: 'uint', value: 1 }, Events: { kind: 'raw', value: events } });
      return Buffer.concat([Buffer.from([2]), w.bytes()]);
    };
    const nils = (n: number): Buffer => {
      const w = new MsgWriter();
      w.arrayHeader(n);
      for (let i = 0; i < n; i++) w.nil();
      return w.bytes();
    };
    assert.equal(decodeSerfPushPull(state(nils(512))).events.length, 512);
    assert.throws(() => decodeSerfPushPull(state(nils(513))), /Events has 513 entries, more than the event buffer of 512/);
    const msg = (fields: Parameters<MsgWriter['struct']>[0]): Buffer => {
      const w = new MsgWriter();
      w.struct(fields);
      return Buffer.concat([Buffer.from([3]), w.bytes()]);
    };
    assert.deepEqual(
      decodeUserEvent(
        msg({
          LTime: { kind: 'uint', value: 9 },
          Name: { kind: 'str', value: 'n' },
          Payload: { kind: 'bytes', value: null },
          CC: { kind: 'bool', value: false },
        }),
      ),
      {
        ltime: 9,
        name: Buffer.from('n'),
        payload: null,
      },
    );
    assert.throws(() => decodeUserEvent(msg({ LTime: { kind: 'uint', value: 2n ** 64n - 1n }, Name: { kind: 'str', value: 'n' } })), /LTime is out of range/);
    assert.throws(() => decodeUserEvent(msg({ LTime: { kind: 'uint', value: 1 }, CC: { kind: 'str', value: 'yes' } })), /CC is not a bool/);
    assert.throws(() => decodeUserEvent(msg({ LTime: { kind: 'int', value: -1 } })), /LTime is not an unsigned integer/);
    assert.throws(() => decodeUserEvent(Buffer.from([3, 0x92])), /unexpected end|not a map/);
  });
});

describe('log lines a peer can cause', () => {
  it('are written once per kind and interval, the next one counting those left out', async () => {
    const lines: string[] = [];
    const put = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
    const limiter = new LogLimiter({ debug: put('debug'), info: put('info'), warn: put('warn'), error: put('error') }, 50);
    for (let i = 0; i < 3; i++) limiter.write('a', 'warn', `a${i}`);
    limiter.write('b', 'error', 'b0');
    await new Promise((r) => setTimeout(r, 60));
    limiter.write('a', 'warn', 'a3');
    limiter.write('a', 'warn', 'a4');
    assert.deepEqual(lines, ['warn a0', 'error b0', 'warn a3 (and 2 more like it since the last such line)']);
  });
});
