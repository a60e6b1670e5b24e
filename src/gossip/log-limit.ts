// Log lines that any peer can cause at will (one per packet it sends): at
// most one line per kind per interval, the next one saying how many were
// left out, so a flood of bad packets cannot flood the log too.

import type { Logger } from './config.js';

const QUIET_MS = 60_000;

export class LogLimiter {
  /** Per kind; kinds are the caller's fixed names, never peer text, so this stays small. */
  private readonly last = new Map<string, { at: number; skipped: number }>();

  constructor(
    private readonly log: Logger,
    private readonly quietMs = QUIET_MS,
  ) {}

  /** Logs `line` at `level` unless a line of this `kind` was logged less than the interval ago. */
  write(kind: string, level: keyof Logger, line: string): void {
    const now = Date.now();
    const prev = this.last.get(kind);
    if (prev && now - prev.at < this.quietMs) {
      prev.skipped++;
      return;
    }
    const skipped = prev?.skipped ?? 0;
    this.last.set(kind, { at: now, skipped: 0 });
    this.log[level](skipped > 0 ? `${line} (and ${skipped} more like it since the last such line)` : line);
  }
}
