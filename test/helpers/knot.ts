// A real knotd on loopback, authoritative for zone files a test writes: the
// reference the protocol tests compare with (as bench/lib/servers/knot.ts).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';
import { query, udpExchange } from './raw.js';

export interface Knot {
  port: number;
  stop(): Promise<void>;
}

/** knotd's configuration: one listener on loopback, these zones served from their files as they are. */
export function knotConfig(dir: string, port: number, zones: ReadonlyArray<{ domain: string; file: string }>, udpWorkers: number): string {
  const lines = [
    'server:',
    `  listen: 127.0.0.1@${port}`,
    `  rundir: ${dir}`,
    `  udp-workers: ${udpWorkers}`,
    '  tcp-workers: 1',
    '  background-workers: 1',
    'database:',
    `  storage: ${dir}`,
    'log:',
    '  - target: stderr',
    '    any: warning',
    'zone:',
  ];
  // Never write a zone back: the file is the data.
  for (const z of zones) lines.push(`  - domain: ${z.domain}`, `    file: ${z.file}`, '    zonefile-sync: -1', '    journal-content: none');
  return lines.join('\n') + '\n';
}

/** Starts knotd serving `zones` (zone name → zone file text); resolves once every zone answers. */
export async function startKnot(zones: Record<string, string>): Promise<Knot> {
  const dir = mkdtempSync(join(tmpdir(), 'knot-test-'));
  const port = await freePort();
  const files: Array<{ domain: string; file: string }> = [];
  for (const [zone, text] of Object.entries(zones)) {
    const file = join(dir, `${zone}.zone`);
    writeFileSync(file, text);
    files.push({ domain: zone, file });
  }
  writeFileSync(join(dir, 'knot.conf'), knotConfig(dir, port, files, 1));
  const proc: ChildProcess = spawn('knotd', ['-c', join(dir, 'knot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.once('error', (err) => {
    throw new Error(`knotd could not start (scripts/install-deps.sh installs knot): ${err.message}`);
  });
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const zone of Object.keys(zones)) {
      await eventually(
        () => udpExchange(port, query(zone, 'SOA'), 500),
        (r) => r !== null && (r[3]! & 0xf) === 0,
        `knotd to serve ${zone} (stderr: ${stderr})`,
        10_000,
      );
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, stop };
}
