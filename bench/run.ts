// `npm run bench -- [--quick] [--workload NAME] [--seconds N]`: podswarm-dns
// against knot, unbound, dnsmasq, aardvark-dns and a bare Node responder,
// same data, same machine, same run. See bench/README.md.

import { parseArgs, type Args } from './lib/args.js';
import { services, type ServiceData } from './lib/data.js';
import { ensureTools, machine, versions, type Machine, type Versions } from './lib/machine.js';
import { report, tables } from './lib/report.js';
import { session, writeResult } from './lib/session.js';
import { aardvark } from './lib/servers/aardvark.js';
import { dnsmasq } from './lib/servers/dnsmasq.js';
import { knot, upstreamKnot } from './lib/servers/knot.js';
import { nodeLimit } from './lib/servers/nodelimit.js';
import { podswarm, probeBuild, type Build } from './lib/servers/podswarm.js';
import type { Env, Mode, ServerSpec } from './lib/servers/types.js';
import { unbound } from './lib/servers/unbound.js';
import { runWorkload, type Timing } from './lib/workload.js';
import { hotpath } from './hotpath.js';
import { registryScale } from './registry-scale.js';

/** Loopback ports, all within 18700-18799. */
const PORT = {
  podswarm: 18700,
  unpinned: 18701,
  workers: 18702,
  withMetrics: 18703,
  metrics: 18704,
  dgram: 18705,
  workersDgram: 18706,
  knot: 18710,
  unbound: 18720,
  dnsmasq: 18730,
  aardvark: 18740,
  nodeLimit: 18750,
  upstream: 18760,
};

const log = (line: string): void => void process.stderr.write(line + '\n');

function timing(args: Args): Timing {
  return args.quick
    ? { seconds: args.seconds, warmSeconds: 0.5, fixedSeconds: 0.5, rampSeconds: 2 }
    : { seconds: args.seconds, warmSeconds: 2, fixedSeconds: 3, rampSeconds: 10 };
}

/** A row per UDP path (the batch addon first: the reference row), each with and without -workers 2. */
function podswarmRows(build: Build, mode: Mode): ServerSpec[] {
  const rows = [
    podswarm(build, mode, { label: 'podswarm-dns', port: PORT.podswarm, cpu: '0' }),
    podswarm(build, mode, { label: 'podswarm-dns', port: PORT.dgram, cpu: '0', udpIo: 'dgram' }),
    podswarm(build, mode, { label: 'podswarm-dns', port: PORT.unpinned, cpu: null }),
  ];
  if (build.workers) {
    rows.push(podswarm(build, mode, { label: 'podswarm-dns', port: PORT.workers, cpu: null, workers: 2 }));
    rows.push(podswarm(build, mode, { label: 'podswarm-dns', port: PORT.workersDgram, cpu: null, workers: 2, udpIo: 'dgram' }));
  }
  if (mode === 'cluster' && build.plugins.has('prometheus')) {
    rows.push(podswarm(build, mode, { label: 'podswarm-dns', port: PORT.withMetrics, cpu: '0', metricsPort: PORT.metrics }));
  }
  return rows;
}

function serversFor(mode: Mode, build: Build, v: Versions): ServerSpec[] {
  if (mode === 'cluster') {
    return [
      ...podswarmRows(build, mode),
      knot(v.knot, PORT.knot),
      unbound(v.unbound, PORT.unbound),
      dnsmasq(v.dnsmasq, PORT.dnsmasq),
      aardvark(v.aardvark, PORT.aardvark),
      nodeLimit(PORT.nodeLimit),
    ];
  }
  // The limit row also in forward-cached: a cache hit is a fixed answer too, so it is that target's ceiling.
  const limit = mode === 'forward-cached' ? [nodeLimit(PORT.nodeLimit)] : [];
  return [...podswarmRows(build, mode), unbound(v.unbound, PORT.unbound), dnsmasq(v.dnsmasq, PORT.dnsmasq), ...limit];
}

async function dnsWorkload(mode: Mode, dir: string, data: ServiceData[], ctx: { args: Args; build: Build; v: Versions; m: Machine }): Promise<void> {
  log(`${mode}:`);
  const env: Env = { dir, data, mode, upstreamPort: PORT.upstream };
  const extraCommands: string[] = [];
  const extraConfigs: string[] = [];
  let upstream: { stop(): Promise<void> } | undefined;
  try {
    if (mode !== 'cluster') {
      const u = await upstreamKnot(ctx.v.knot, PORT.upstream).launch(env);
      upstream = u;
      extraCommands.push('# upstream: knot, authoritative for test. (ext.test names, *.miss.test wildcard)', u.command);
      extraConfigs.push(...u.configs);
    }
    const t = timing(ctx.args);
    const result = await runWorkload(env, serversFor(mode, ctx.build, ctx.v), t, {
      resperfFor: (s) => mode === 'cluster' && s.cpu !== null && (s.role !== 'peer' || s.label === 'knot'),
      log,
    });
    const text = report({ result, machine: ctx.m, dnsperfVersion: ctx.v.dnsperf, timing: t, extraCommands, extraConfigs });
    const file = writeResult(mode, ctx.args.quick, text);
    process.stdout.write(`\n${tables(result)}\n(written to ${file})\n\n`);
  } finally {
    await upstream?.stop();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await session(async (dir) => {
    await ensureTools();
    // Before anything starts: what else is loading the machine shows here.
    const m = machine();
    const [build, v] = await Promise.all([probeBuild(), versions()]);
    log(`podswarm-dns ${build.version} (plugins: ${[...build.plugins].join(' ')}${build.workers ? '; -workers' : ''}); ${m.nproc} CPUs, load ${m.loadAvg}`);
    const data = services(100);
    for (const w of args.workloads) {
      if (w === 'registry-scale') await registryScale({ dir, build, m, quick: args.quick, seconds: args.seconds, log });
      else if (w === 'hotpath') await hotpath({ quick: args.quick, m, log });
      else await dnsWorkload(w, dir, data, { args, build, v, m });
    }
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
