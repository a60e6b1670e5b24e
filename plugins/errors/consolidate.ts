// `consolidate DURATION REGEXP [LEVEL] [show_first]`: errors matching REGEXP
// are counted, and one line per DURATION (from the first of them) says how
// many there were, instead of one line per error.

import type { Logger } from '../../src/log.js';

export type Level = 'warning' | 'error' | 'info' | 'debug';

export interface PatternSpec {
  periodMs: number;
  /** The DURATION as written, for the summary line. */
  periodText: string;
  regexp: RegExp;
  level: Level;
  showFirst: boolean;
}

function logAt(log: Logger, level: Level, msg: string): void {
  if (level === 'warning') log.warn(msg);
  else if (level === 'error') log.error(msg);
  else if (level === 'info') log.info(msg);
  else log.debug(msg);
}

class Pattern {
  count = 0;
  timer: NodeJS.Timeout | undefined;
  constructor(readonly spec: PatternSpec) {}
}

export class Consolidator {
  private readonly patterns: Pattern[];
  private stopped = false;

  constructor(
    specs: readonly PatternSpec[],
    private readonly log: Logger,
  ) {
    this.patterns = specs.map((s) => new Pattern(s));
  }

  /**
   * Logs `line` (built from `message`) unless a pattern takes it. The first
   * pattern whose regexp matches `message` wins; with show_first its first
   * error is still logged, at that pattern's level.
   */
  report(message: string, line: string): void {
    const p = this.stopped ? undefined : this.patterns.find((x) => x.spec.regexp.test(message));
    if (!p) return this.log.error(line);
    p.count++;
    if (p.count === 1) {
      p.timer = setTimeout(() => this.flush(p), p.spec.periodMs);
      // A pending summary never keeps the process alive; stop() prints it.
      p.timer.unref();
      if (p.spec.showFirst) logAt(this.log, p.spec.level, line);
    }
  }

  /** Prints pending summaries now (the config is stopping). */
  stop(): void {
    this.stopped = true;
    for (const p of this.patterns) {
      if (p.count > 0) this.flush(p);
    }
  }

  private flush(p: Pattern): void {
    clearTimeout(p.timer);
    const n = p.count;
    p.count = 0;
    // With show_first a single error was already printed as itself.
    if (n === 1 && p.spec.showFirst) return;
    logAt(this.log, p.spec.level, `${n} errors like '${p.spec.regexp.source}' occurred in last ${p.spec.periodText}`);
  }
}
