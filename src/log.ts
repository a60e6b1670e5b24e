// Process logging through pino. By default lines read like CoreDNS's
// ("[INFO] plugin/reload: ..."); `-log.json` keeps pino's JSON lines.

import { pino, type Logger } from 'pino';

const LEVELS: Record<number, string> = { 10: 'DEBUG', 20: 'DEBUG', 30: 'INFO', 40: 'WARNING', 50: 'ERROR', 60: 'FATAL' };

/** A pino destination that prints CoreDNS-style text. */
function textDestination(out: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(line: string): void {
      const o = JSON.parse(line) as { level: number; msg?: string; plugin?: string };
      const prefix = o.plugin ? `plugin/${o.plugin}: ` : '';
      out.write(`[${LEVELS[o.level] ?? 'INFO'}] ${prefix}${o.msg ?? ''}\n`);
    },
  };
}

/** What `-log.level` accepts, most verbose first; each level also prints the ones after it. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export function createLogger(opts: { json: boolean; level?: LogLevel; out?: NodeJS.WritableStream }): Logger {
  const out = opts.out ?? process.stdout;
  const options = { level: opts.level ?? 'info', base: undefined, timestamp: opts.json };
  return opts.json ? pino(options, out) : pino(options, textDestination(out));
}

export type { Logger };
