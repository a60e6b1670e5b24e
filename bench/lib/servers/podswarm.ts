// podswarm-dns as built (dist/), in production mode, from a registry file.

import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { registryYaml, TTL, ZONE } from '../data.js';
import { run } from '../procs.js';
import { launchForeground, type Env, type Mode, type ServerSpec } from './types.js';

const CLI = resolve(import.meta.dirname, '../../../dist/src/cli.js');

/** What the built CLI offers: compiled plugins, whether `-workers` exists, and whether `-udp.io batch` can run. */
export interface Build {
  version: string;
  plugins: Set<string>;
  workers: boolean;
  /** `-udp.io` exists (an older build runs node:dgram only). */
  udpIoFlag: boolean;
  /** Why `-udp.io batch` cannot run (no such flag, or the addon is not built); undefined when it can. */
  noBatch?: string;
}

const ADDON = resolve(import.meta.dirname, '../../../native/udp-batch/build/Release/udp_batch.node');

/** Asks the built CLI; the bench script builds first. */
export async function probeBuild(): Promise<Build> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  const [version, plugins, help] = await Promise.all([
    run(process.execPath, [CLI, '-version']),
    run(process.execPath, [CLI, '-plugins']),
    run(process.execPath, [CLI, '-h'], { allowFail: true }),
  ]);
  const udpIoFlag = /^\s*-udp\.io\b/m.test(help);
  return {
    version: version.trim().replace(/^podswarm-dns-/, ''),
    plugins: new Set(plugins.split(/\s+/).filter(Boolean)),
    workers: /^\s*-workers\b/m.test(help),
    udpIoFlag,
    noBatch: !udpIoFlag ? 'not available: this build has no -udp.io' : !existsSync(ADDON) ? `not available: ${ADDON} is not built` : undefined,
  };
}

/** The Corefile every podswarm-dns row runs (bench/chain.ts runs the same chain in-process). */
export function corefile(mode: Mode, port: number, registry: string, upstreamPort: number, metricsPort: number | undefined): string {
  const lines = [
    `.:${port} {`,
    '    bind 127.0.0.1',
    ...(metricsPort === undefined ? [] : [`    prometheus 127.0.0.1:${metricsPort}`]),
    `    cluster ${ZONE} {`,
    `        registry ${registry}`,
    `        ttl ${TTL}`,
    '    }',
    `    srv ${ZONE} {`,
    `        ttl ${TTL}`,
    '    }',
  ];
  if (mode === 'forward-cached') lines.push('    cache');
  if (mode !== 'cluster') lines.push(`    forward . 127.0.0.1:${upstreamPort}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

function missing(mode: Mode, build: Build): string | undefined {
  const need = mode === 'forward-cached' ? ['cache', 'forward'] : mode === 'forward-miss' ? ['forward'] : ['cluster', 'srv'];
  const absent = need.filter((p) => !build.plugins.has(p));
  return absent.length > 0 ? `not available: ${absent.join(', ')} plugin not compiled in` : undefined;
}

/**
 * `udpIo`: the UDP path (-udp.io; default batch when the build has it, the
 * path `auto` takes on a machine with a compiler). `metricsPort`: also run
 * the prometheus plugin (the row shows what per-query metrics cost).
 */
export function podswarm(
  build: Build,
  mode: Mode,
  opts: { label: string; port: number; cpu: string | null; workers?: number; metricsPort?: number; udpIo?: 'batch' | 'dgram' },
): ServerSpec {
  const udpIo = opts.udpIo ?? 'batch';
  const spec: ServerSpec = {
    label: opts.label,
    version: build.version,
    role: 'podswarm',
    port: opts.port,
    cpu: opts.cpu,
    note: [`udp ${udpIo}`, opts.workers ? `-workers ${opts.workers}` : '', opts.metricsPort === undefined ? '' : 'with prometheus (metrics on every query)']
      .filter(Boolean)
      .join('; '),
    unavailable: missing(mode, build) ?? (udpIo === 'batch' ? build.noBatch : undefined),
    variant: { udpIo, workers: opts.workers ?? 1, metrics: opts.metricsPort !== undefined },
    async launch(env: Env) {
      const registry = join(env.dir, 'services.yaml');
      writeFileSync(registry, registryYaml(env.data));
      const conf = join(env.dir, `Corefile.${opts.port}`);
      writeFileSync(conf, corefile(env.mode, opts.port, registry, env.upstreamPort, opts.metricsPort));
      const args = [CLI, '-conf', conf, '-node', 'bench', '-quiet'];
      if (opts.workers) args.push('-workers', String(opts.workers));
      if (build.udpIoFlag) args.push('-udp.io', udpIo);
      return launchForeground(spec, env, process.execPath, args, env.data[0]!.short, [conf, registry], { NODE_ENV: 'production' });
    },
  };
  return spec;
}
