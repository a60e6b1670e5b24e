// A DNS prober in a process of its own (so the load a test or bench drives
// does not delay its timers): asks every target for one name HZ times a
// second over UDP, until its stdin closes, then prints what it saw as JSON:
// {sent, timeouts, latencies: ms[]}. A reply counts if it comes within 1 s.
// It prints `probing` first, once the first queries are out.
//   node --import tsx test/helpers/dns-prober.ts NAME PORT HZ ADDR [ADDR...]
// From a test or bench: `startProber(...)`, `await prober.ready` (a process
// takes seconds to start on a loaded machine), later `await prober.stop()`.

import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';

export interface ProbeResult {
  sent: number;
  timeouts: number;
  latencies: number[];
}

const TIMEOUT_MS = 1000;
const READY = 'probing';

function query(name: string): Buffer {
  const labels = name.split('.').filter(Boolean);
  const q = Buffer.alloc(12 + labels.reduce((n, l) => n + l.length + 1, 0) + 1 + 4);
  q.writeUInt16BE(1, 4);
  let o = 12;
  for (const label of labels) {
    q[o++] = label.length;
    o += q.write(label, o, 'ascii');
  }
  q[o++] = 0;
  q.writeUInt16BE(1, o);
  q.writeUInt16BE(1, o + 2);
  return q;
}

function probe(name: string, port: number, hz: number, targets: string[]): void {
  const sock = dgram.createSocket(targets[0]!.includes(':') ? 'udp6' : 'udp4');
  const result: ProbeResult = { sent: 0, timeouts: 0, latencies: [] };
  /** ID → when it was sent, in send order. */
  const pending = new Map<number, number>();
  const q = query(name);
  let id = 0;
  sock.on('message', (msg) => {
    if (msg.length < 2) return;
    const t = pending.get(msg.readUInt16BE(0));
    if (t === undefined) return;
    pending.delete(msg.readUInt16BE(0));
    result.latencies.push(performance.now() - t);
  });
  // Judged after the poll phase (setImmediate), never from a timer: a reply
  // already in the socket buffer when this process gets the CPU back is read
  // before its query is counted as timed out, so a starved prober does not
  // report its own delay as the server's.
  const sweep = (): void => {
    const now = performance.now();
    for (const [qid, t] of pending) {
      if (now - t < TIMEOUT_MS) break;
      pending.delete(qid);
      result.timeouts++;
    }
  };
  const tick = setInterval(() => {
    for (const addr of targets) {
      id = (id + 1) & 0xffff;
      // A buffer per query: send() copies it only later, so one buffer rewritten per target
      // sent every target the last ID, and all replies but one went unmatched (timeouts).
      const msg = Buffer.from(q);
      msg.writeUInt16BE(id, 0);
      result.sent++;
      pending.set(id, performance.now());
      sock.send(msg, port, addr);
    }
    if (result.sent === targets.length) process.stdout.write(`${READY}\n`);
    setImmediate(sweep);
  }, 1000 / hz);
  process.stdin.resume();
  process.stdin.on('end', () => {
    clearInterval(tick);
    const last = setInterval(() => setImmediate(sweep), 100);
    setTimeout(() => {
      clearInterval(last);
      setImmediate(() => {
        result.timeouts += pending.size;
        sock.close();
        process.stdout.write(JSON.stringify(result));
      });
    }, TIMEOUT_MS + 200);
  });
}

/**
 * Starts a prober (under `prefix`, e.g. `ip netns exec NS`); `ready` resolves
 * once its first queries are out, `stop()` ends it and resolves with what it saw.
 */
export function startProber(o: { name: string; port: number; hz: number; targets: string[]; prefix?: string[] }): {
  ready: Promise<void>;
  stop(): Promise<ProbeResult>;
} {
  const argv = [...(o.prefix ?? []), process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), o.name, String(o.port), String(o.hz), ...o.targets];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith(`${READY}\n`)) resolve();
    });
    void exited.then((code) => reject(new Error(`dns prober exited with ${code} before it probed`)));
  });
  // stop() reports an early exit; an unawaited `ready` must not also throw.
  ready.catch(() => {});
  return {
    ready,
    async stop() {
      child.stdin!.end();
      const code = await exited;
      if (code !== 0) throw new Error(`dns prober exited with ${code}`);
      return JSON.parse(out.slice(out.indexOf('\n') + 1)) as ProbeResult;
    },
  };
}

/** The 99th percentile of `xs` (NaN when empty). */
export function p99(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name, port, hz, ...targets] = process.argv.slice(2);
  probe(name!, Number(port), Number(hz), targets);
}
