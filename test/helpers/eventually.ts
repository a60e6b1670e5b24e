// Bounded polling for state that has no event to await from outside a
// process (DNS answers, `serf members`): fails with the last value seen.

import assert from 'node:assert/strict';

export async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (ok(last)) return last;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs}ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Until node `who`'s answer for `name` (what `answers` returns) is exactly `want`, in order; `why` names the step. */
export async function eventuallyAnswers(
  answers: () => Promise<string[]>,
  who: string,
  name: string,
  want: string[],
  why: string,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<void> {
  await eventually(answers, (a) => JSON.stringify(a) === JSON.stringify(want), `${who}: ${name} → ${JSON.stringify(want)} (${why})`, timeoutMs, everyMs);
}
