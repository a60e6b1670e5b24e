// SWIM helpers: timing formulas, the broadcast queue, suspicion and serf tags.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TransmitLimitedQueue, retransmitLimit } from '../src/gossip/broadcast.js';
import { decodeTags, encodeJoinIntent, encodeLeaveIntent, encodeTags } from '../src/gossip/serf.js';
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
});
