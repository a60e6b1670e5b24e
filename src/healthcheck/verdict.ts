// One endpoint's check results → its verdict, with the times passed in so
// the timing rule is tested without waiting (test/healthcheck-verdict.test.ts).
//
// Why a verdict once slipped a whole interval past the threshold: each round
// was stamped with Date.now() when its timer fired, and Node fires a timer up
// to a few ms early against Date.now() (the delay counts from the event
// loop's cached time, taken before the previous round's work). Three
// intervals of 10 s then measured 29.99x s, short of a 30 s threshold, and
// the verdict waited for the fourth (`failing for 40.002s`). Now a check is
// stamped no earlier than it was due, and the next is due one interval after
// that stamp, so n intervals always measure at least n intervals.

import type { CheckResult } from '../registry/types.js';

export interface CheckSettings {
  intervalMs: number;
  /** Continuous failure for this long marks an endpoint unhealthy. */
  thresholdMs: number;
  timeoutMs: number;
}

export class CheckState {
  /** Undefined until the first result: pass → true; failures turn it false only after the threshold. */
  verdict: boolean | undefined;
  /** When the next check is due (ms since the epoch). */
  dueAt: number;
  result: CheckResult | undefined;
  /** The first failed check of the current run of failures. */
  private failingSince: number | undefined;

  constructor(now: number) {
    this.dueAt = now;
  }

  /** The stamp of a check that starts at `now`: never before it was due. */
  stamp(now: number): number {
    return Math.max(this.dueAt, now);
  }

  /**
   * Records the check stamped `at` (failure: its error, or null) and schedules
   * the next. Returns why when the verdict changed.
   */
  record(failure: string | null, at: number, s: CheckSettings): string | undefined {
    this.dueAt = at + s.intervalMs;
    const before = this.verdict;
    if (failure === null) {
      this.failingSince = undefined;
      if (this.result?.ok !== true) this.result = { ok: true, since: at };
      this.verdict = true;
      return before === true ? undefined : 'check passed';
    }
    this.failingSince ??= at;
    if (this.result?.ok !== false || this.result.error !== failure) this.result = { ok: false, since: at, error: failure };
    const failingMs = at - this.failingSince;
    if (before === false || failingMs < s.thresholdMs) return undefined;
    this.verdict = false;
    return `failing for ${failingMs / 1000}s: ${failure}`;
  }
}
