// dnsmasq as an upstream on loopback, answering only the records a test gives
// it (unknown names: REFUSED), so forwarding never leaves the machine.

import { spawn, type ChildProcess } from 'node:child_process';
import { query, udpExchange } from './raw.js';

export interface Dnsmasq {
  stop(): Promise<void>;
}

/** Every dnsmasq started and not stopped yet: a test file's `after(stopAllDnsmasq)` ends them if a test fails early. */
const running = new Set<ChildProcess>();

export function stopAllDnsmasq(): void {
  for (const p of running) p.kill();
}

/** Starts dnsmasq on 127.0.0.1:`port` with `--host-record`s; resolves once it answers. */
export async function dnsmasq(port: number, records: string[], extra: string[] = []): Promise<Dnsmasq> {
  const proc = spawn('dnsmasq', [
    '--keep-in-foreground', '--conf-file=/dev/null', '--pid-file', `--port=${port}`, '--listen-address=127.0.0.1',
    '--bind-interfaces', '--no-resolv', '--no-hosts', ...records.map((r) => `--host-record=${r}`), ...extra,
  ], { stdio: 'ignore' });
  running.add(proc);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    proc.kill();
    await exited;
    running.delete(proc);
  };
  for (let i = 0; i < 50; i++) {
    if (await udpExchange(port, query('ready.test', 'A', { id: 1 }), 100)) return { stop };
  }
  await stop();
  throw new Error(`dnsmasq on ${port} did not start`);
}
