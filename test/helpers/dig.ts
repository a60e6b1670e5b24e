// Runs the real `dig` / `kdig` and reads their answers record by record.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DigRecord {
  name: string;
  ttl: number;
  class: string;
  type: string;
  data: string;
}

export interface DigResult {
  status: string;
  flags: string[];
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  raw: string;
}

/** `dig @127.0.0.1 -p PORT NAME TYPE +norec [extra...]`, parsed. */
export async function dig(port: number, name: string, type = 'A', extra: string[] = [], server = '127.0.0.1'): Promise<DigResult> {
  const { stdout } = await run('dig', [`@${server}`, '-p', String(port), name, type, '+norec', '+time=2', '+tries=1', ...extra]);
  return parseDig(stdout);
}

/** Same with knot's kdig (different parser, different client behaviour). */
export async function kdig(port: number, name: string, type = 'A', extra: string[] = [], server = '127.0.0.1'): Promise<DigResult> {
  const { stdout } = await run('kdig', [`@${server}`, '-p', String(port), name, type, '+norec', '+time=2', '+retry=0', ...extra]);
  return parseDig(stdout);
}

export function parseDig(out: string): DigResult {
  const status = /status: ([A-Z]+)/.exec(out)?.[1] ?? (/;; connection timed out|communications error/.test(out) ? 'TIMEOUT' : 'UNKNOWN');
  const flags = (/;; [Ff]lags: ([a-z ]+);/.exec(out)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  return { status, flags, answer: section(out, 'ANSWER'), authority: section(out, 'AUTHORITY'), additional: section(out, 'ADDITIONAL'), raw: out };
}

function section(out: string, name: string): DigRecord[] {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^;; ${name} SECTION:`, 'i').test(l));
  if (start < 0) return [];
  const recs: DigRecord[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.trim() === '' || l.startsWith(';;')) break;
    if (l.startsWith(';')) continue;
    const m = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(l.trim());
    if (m) recs.push({ name: m[1]!, ttl: Number(m[2]), class: m[3]!, type: m[4]!, data: m[5]!.trim() });
  }
  return recs;
}
