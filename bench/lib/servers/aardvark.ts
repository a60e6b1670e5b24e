// aardvark-dns (Podman's DNS server): one network file with a container per
// endpoint. It has no zones: the cluster.local names are given to the
// containers as network aliases, and it has no SRV records at all.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceData } from '../data.js';
import { alive, pinned, commandLine, startProcess, stopPid, trackDaemon } from '../procs.js';
import { assertFree, envPrefix, ready, type ServerSpec } from './types.js';

export const AARDVARK = '/usr/lib/podman/aardvark-dns';

const ctrId = (n: number): string => n.toString(16).padStart(64, '0');

/** `<listen-ip>`, then `<ctr-id> <ipv4s> <ipv6s> <name,aliases>` per container. */
function network(data: ServiceData[]): string {
  // The client's address must be a container on the network, or queries take the non-container path.
  const out = ['127.0.0.1', `${ctrId(1)} 127.0.0.1  bench-client`];
  let n = 2;
  for (const s of data) for (const e of s.endpoints) out.push(`${ctrId(n++)} ${e.address}  ${s.name}-${e.name},${s.short},${s.long},${e.fqdn}`);
  return out.join('\n') + '\n';
}

export function aardvark(version: string, port: number): ServerSpec {
  const spec: ServerSpec = {
    label: 'aardvark-dns',
    version,
    role: 'peer',
    port,
    cpu: '0',
    note: 'cluster.local names as container aliases',
    async launch(env) {
      await assertFree(spec);
      // Every file in the config dir is read as a network: keep only the network there, the log outside.
      const dir = join(env.dir, 'aardvark');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'bench'), network(env.data));
      const log = join(env.dir, 'aardvark.log');
      // No proxying of unknown names to the host's resolvers.
      const extraEnv = { AARDVARK_NO_PROXY: '1' };
      const [c, a] = pinned(spec.cpu, AARDVARK, ['--config', dir, '-p', String(port), 'run']);
      const launcher = startProcess(c, a, log, { ...process.env, ...extraEnv });
      // It forks into the background and writes its pid file.
      await new Promise<void>((resolve) => launcher.once('exit', () => resolve()));
      let pid = 0;
      for (let i = 0; i < 50 && pid === 0; i++) {
        try {
          pid = Number(readFileSync(join(dir, 'aardvark.pid'), 'utf8').trim());
        } catch {
          await sleep(100);
        }
      }
      if (!pid) throw new Error(`aardvark-dns: no pid file (log: ${log})`);
      trackDaemon(pid);
      await ready(
        spec,
        log,
        env.data[0]!.short,
        () => alive(pid),
        () => stopPid(pid),
      );
      return { pid, command: envPrefix(extraEnv) + commandLine(c, a), configs: [join(dir, 'bench')], stop: () => stopPid(pid) };
    },
  };
  return spec;
}
