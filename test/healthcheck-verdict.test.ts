// The verdict timing rule (src/healthcheck/verdict.ts) with the times passed in:
// a port that closes at any moment is unhealthy within threshold + one
// interval of closing, and never before the threshold of failures, even
// when every timer fires early as Node's do (the cause of a verdict once
// slipping to `failing for 40.002s` with a 30 s threshold). Also readiness:
// nothing is healthy before its first pass.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CheckState, type CheckSettings } from '../src/healthcheck/verdict.js';

const SEED: CheckSettings = { intervalMs: 10_000, thresholdMs: 30_000, timeoutMs: 2_000 };

/**
 * Runs checks on `state`'s own schedule: each timer fires `earlyMs` before it
 * is due (as measured by the clock), each check takes `durationMs`. The port
 * answers until `closedAt`. Returns when the verdict turned false, and its why.
 */
function runUntilUnhealthy(s: CheckSettings, closedAt: number, earlyMs: number, durationMs: number): { at: number; why: string } {
  const state = new CheckState(0);
  let now = 0;
  for (let round = 0; round < 1000; round++) {
    const at = state.stamp(now);
    const why = state.record(at >= closedAt ? 'connect ECONNREFUSED' : null, at, s);
    now = at + durationMs;
    if (state.verdict === false) return { at, why: why! };
    // The next timer is set now, for dueAt, and fires early.
    now = Math.max(now, state.dueAt - earlyMs);
  }
  throw new Error('never unhealthy');
}

describe('health verdict timing', () => {
  it('is unhealthy within threshold + one interval of the port closing, whatever the phase, with early timers', () => {
    for (const earlyMs of [0, 1, 4, 15]) {
      for (let closedAt = 20_000; closedAt < 30_000; closedAt += 250) {
        const { at, why } = runUntilUnhealthy(SEED, closedAt, earlyMs, 3);
        const after = at - closedAt;
        assert.ok(
          after >= SEED.thresholdMs - SEED.intervalMs && after <= SEED.thresholdMs + SEED.intervalMs,
          `early ${earlyMs}ms, closed at ${closedAt}: unhealthy ${after}ms after`,
        );
        assert.match(why, /^failing for 30s: connect ECONNREFUSED$/, `early ${earlyMs}ms, closed at ${closedAt}`);
      }
    }
  });

  it('holds with checks that take their whole timeout (the next is due an interval after each start)', () => {
    const { why } = runUntilUnhealthy(SEED, 25_000, 4, SEED.timeoutMs);
    assert.equal(why, 'failing for 30s: connect ECONNREFUSED');
  });

  it('a check that overruns its interval pushes the next one back, never forward', () => {
    const s = { intervalMs: 100, thresholdMs: 500, timeoutMs: 300 };
    const { why } = runUntilUnhealthy(s, 0, 1, 250);
    // Checks start at 0, 250, 500: the threshold is met at the third, measured honestly.
    assert.equal(why, 'failing for 0.5s: connect ECONNREFUSED');
  });

  it('threshold 0: unhealthy at the first failure after a pass', () => {
    const state = new CheckState(0);
    const s = { ...SEED, thresholdMs: 0 };
    assert.equal(state.record(null, 0, s), 'check passed');
    assert.equal(state.record('refused', 10_000, s), 'failing for 0s: refused');
    assert.equal(state.verdict, false);
  });

  it('no verdict before the first result; failures before a first pass keep it undecided until the threshold', () => {
    const state = new CheckState(0);
    assert.equal(state.verdict, undefined);
    assert.equal(state.record('refused', 0, SEED), undefined);
    assert.equal(state.verdict, undefined);
    assert.deepEqual(state.result, { ok: false, since: 0, error: 'refused' });
    assert.equal(state.record(null, 10_000, SEED), 'check passed');
    assert.equal(state.verdict, true);
    assert.deepEqual(state.result, { ok: true, since: 10_000 });
  });

  it('the last result changes only when the result does', () => {
    const state = new CheckState(0);
    state.record('refused', 0, SEED);
    const first = state.result;
    state.record('refused', 10_000, SEED);
    assert.equal(state.result, first);
    state.record('timed out', 20_000, SEED);
    assert.deepEqual(state.result, { ok: false, since: 20_000, error: 'timed out' });
  });
});
