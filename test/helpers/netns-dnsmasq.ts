// dnsmasq as an upstream on ADDRESS:53 inside a test's network namespace
// (dnsmasq.ts serves on the host's 127.0.0.1 and a test port; an address
// such as systemd-resolved's 127.0.0.53 only exists, free, in a namespace).
// Answers only the records it is given; unknown names: REFUSED.

import { spawn, type ChildProcess } from 'node:child_process';

export interface NetnsDnsmasq {
  address: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** For a test file's `after`: ends every dnsmasq still running if a test failed early. */
export function stopAllNetnsDnsmasq(): void {
  for (const p of running) p.kill();
}

/** Starts dnsmasq in namespace `ns` on `address`:53 with `--host-record`s; resolves once it has bound its sockets. */
export async function dnsmasqIn(ns: string, address: string, records: string[]): Promise<NetnsDnsmasq> {
  const proc = spawn('ip', [
    'netns', 'exec', ns, 'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--pid-file', '--port=53',
    `--listen-address=${address}`, '--bind-interfaces', '--no-resolv', '--no-hosts', '--local-ttl=300', '--log-facility=-',
    ...records.map((r) => `--host-record=${r}`),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(proc);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    proc.kill();
    await exited;
    running.delete(proc);
  };
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
