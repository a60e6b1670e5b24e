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
  const { stop } = launch([], [`--port=${port}`, '--listen-address=127.0.0.1', ...recordArgs(records), ...extra], 'ignore');
  for (let i = 0; i < 50; i++) {
    if (await udpExchange(port, query('ready.test', 'A', { id: 1 }), 100)) return { stop };
  }
  await stop();
  throw new Error(`dnsmasq on ${port} did not start`);
}

export interface NetnsDnsmasq extends Dnsmasq {
  address: string;
}

/**
 * dnsmasq on `address`:53 inside a test's network namespace `ns` (an address
 * such as systemd-resolved's 127.0.0.53 only exists, free, in a namespace);
 * resolves once it has bound its sockets.
 */
export async function dnsmasqIn(ns: string, address: string, records: string[]): Promise<NetnsDnsmasq> {
  const { proc, stop, exited } = launch(
    ['ip', 'netns', 'exec', ns],
    ['--port=53', `--listen-address=${address}`, '--local-ttl=300', '--log-facility=-', ...recordArgs(records)],
    'pipe',
  );
  // dnsmasq logs "started" once its sockets are bound (a bind failure exits instead).
  let log = '';
  const started = await new Promise<boolean>((resolve) => {
    proc.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (/started, version/.test(log)) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  if (!started) {
    await stop();
    throw new Error(`dnsmasq on ${address}:53 in ${ns} did not start:\n${log}`);
  }
  return { address, stop };
}

function recordArgs(records: string[]): string[] {
  return records.map((r) => `--host-record=${r}`);
}

/** dnsmasq in the foreground, answering only its records, tracked for stopAllDnsmasq; `prefix` runs it elsewhere (`ip netns exec NS`). */
function launch(prefix: string[], args: string[], stderr: 'ignore' | 'pipe'): { proc: ChildProcess; stop: () => Promise<void>; exited: Promise<void> } {
  const argv = [...prefix, 'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--pid-file', '--bind-interfaces', '--no-resolv', '--no-hosts', ...args];
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', stderr] });
  running.add(proc);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    proc.kill();
    await exited;
    running.delete(proc);
  };
  return { proc, stop, exited };
}
