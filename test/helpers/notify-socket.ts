// A stand-in for systemd's notification socket: a unix datagram socket (Node
// has none, so python3 holds it) whose messages arrive here one by one. File
// descriptors passed with a message (systemd-notify's BARRIER=1) are closed at
// once, which is what releases the sender's barrier, as the real manager does.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { settleWhen } from './waiters.js';

const LISTENER = `
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("listening"), flush=True)
while True:
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(64 * 4))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - len(payload) % 4])
            for fd in fds:
                os.close(fd)
    print(json.dumps(data.decode()), flush=True)
`;

export interface NotifySocket {
  /** The socket's path: the NOTIFY_SOCKET to hand a process. */
  path: string;
  /** The next message whose text matches `re` (earlier non-matching ones are skipped, and kept in `messages`). */
  next(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Every message received so far, in order. */
  messages: string[];
  close(): Promise<void>;
}

export async function listenNotifySocket(): Promise<NotifySocket> {
  const dir = mkdtempSync(join(tmpdir(), 'psw-notify-'));
  const path = join(dir, 'notify.sock');
  const proc = spawn('python3', ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  let read = 0;
  const waiters = new Set<() => void>();
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      exited = true;
      for (const w of waiters) w();
      resolve();
    }),
  );
  let bound = false;
  let listening!: () => void;
  const started = new Promise<void>((resolve) => (listening = resolve));
  createInterface({ input: proc.stdout }).on('line', (line) => {
    // The first line is the listener's own "listening", printed once bound.
    if (!bound) {
      bound = true;
      return listening();
    }
    messages.push(JSON.parse(line) as string);
    for (const w of waiters) w();
  });
  await Promise.race([started, exit.then(() => Promise.reject(new Error('python3 notify listener exited before listening')))]);
  return {
    path,
    messages,
    next(re, timeoutMs = 15_000) {
      return settleWhen<string>(
        waiters,
        () => {
          while (read < messages.length) {
            const m = messages[read++]!;
            if (re.test(m)) return { value: m };
          }
          return exited ? { error: new Error(`notify listener exited; messages: ${JSON.stringify(messages)}`) } : undefined;
        },
        timeoutMs,
        () => `no notification matching ${re} within ${timeoutMs}ms; messages: ${JSON.stringify(messages)}`,
      );
    },
    async close() {
      if (!exited) proc.kill();
      await exit;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
