// systemd readiness (sd_notify) for Type=notify units and Podman's
// --sdnotify=container. Node has no unix datagram sockets, so the message goes
// through `systemd-notify`, which waits on a barrier until the manager has read
// it: without that, a message from a process that already exited may be dropped
// because the manager can no longer tell which unit sent it. The sender is a
// child of the main process, so the unit needs NotifyAccess=all.

import { spawn } from 'node:child_process';
import type { Logger } from '../log.js';

/**
 * Read once and removed from the environment, as sd_notify(unset_environment)
 * does: DNS workers and anything else this process starts must not announce
 * readiness for the unit themselves.
 */
const SOCKET = process.env.NOTIFY_SOCKET;
delete process.env.NOTIFY_SOCKET;

export interface Notifier {
  /** Every listener is bound and answering. */
  ready(): Promise<void>;
  stopping(): Promise<void>;
  /** Brackets a reload with RELOADING=1 ... READY=1; resolves as `work` does. */
  reloading<T>(work: Promise<T>): Promise<T>;
}

/** A no-op when the process was not started with NOTIFY_SOCKET. Never throws: readiness is advisory. */
export function sdNotifier(log: Logger, command = 'systemd-notify'): Notifier {
  // Messages are sent one after another so READY=1 can never overtake RELOADING=1.
  let queue = Promise.resolve();
  let warned = false;
  const send = (...assignments: string[]): Promise<void> => {
    if (SOCKET === undefined || SOCKET === '') return Promise.resolve();
    queue = queue.then(() =>
      run(command, assignments, SOCKET).catch((err: Error) => {
        if (!warned) log.warn(`sd_notify ${assignments.join(' ')} failed: ${err.message}`);
        warned = true;
      }),
    );
    return queue;
  };
  return {
    ready: () => send('READY=1'),
    stopping: () => send('STOPPING=1'),
    async reloading(work) {
      // systemd >= 253 wants the CLOCK_MONOTONIC time of the reload with RELOADING=1.
      void send('RELOADING=1', `MONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`);
      try {
        return await work;
      } finally {
        // A refused reload leaves the old configuration serving: ready again either way.
        void send('READY=1');
      }
    },
  };
}

function run(command: string, assignments: string[], socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, assignments, { env: { ...process.env, NOTIFY_SOCKET: socket }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(stderr.trim() || `${command} exited with ${code ?? signal}`));
    });
  });
}
