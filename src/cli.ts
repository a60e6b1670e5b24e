#!/usr/bin/env node
// podswarm-dns command line, in CoreDNS's style: `podswarm-dns -conf Corefile`.
// It parses the arguments and hands over: to the setup and operator
// subcommands, or to the lifecycle (src/server/lifecycle.ts) that runs the server.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, defaultNodeName } from './app.js';
import { PLUGINS } from './chain/plugins.js';
import { CTL_COMMANDS } from './ctl/commands.js';
import { LOG_LEVELS, type LogLevel, createLogger, isLogLevel } from './log.js';
import { parseUpstreamList } from './config/upstreams.js';
import { Lifecycle, trapSignals } from './server/lifecycle.js';
import { UDP_IO_MODES, isUdpIoMode, type UdpIoMode } from './server/udp-io.js';
import { isWorkerProcess } from './server/workers.js';
import { PACKAGE_ROOT, VERSION } from './version.js';

const USAGE = `Usage: podswarm-dns [options]
  -conf FILE            Corefile to load (default: ./Corefile, else the bundled Corefile.example)
  -dns.port N           port for every server block, overriding the Corefile (alias -p)
  -upstream-dns LIST    upstream servers IP[:PORT],... ([IPv6]:PORT) for forward (beats UPSTREAM_DNS and the Corefile)
  -node NAME            this node's name in the cluster (default: hostname)
  -state DIR|off        keep API registrations in DIR across restarts (default: the api plugin's
                        \`state\`, else systemd's $STATE_DIRECTORY, else off)
  -workers N            serve DNS from N worker processes sharing the sockets (default 1: one process)
  -udp.io MODE          ${UDP_IO_MODES.join('|')}: UDP through the native batching addon (batch) or node:dgram
                        (dgram); auto takes batch when the addon is built (default $PODSWARM_UDP_IO, else auto)
  -log.json             log JSON lines instead of CoreDNS-style text
  -log.level LEVEL      ${LOG_LEVELS.join('|')}: the least severe lines to print (default info)
  -quiet                do not print the startup banner (the log still says where it listens)
  -plugins              list compiled plugins in chain order and exit
  -version              print the version and exit
Options may also be written with two dashes and as -name=value.
  podswarm-dns setup podman|link ...   set this host up as a Podman node (podswarm-dns setup --help)
  podswarm-dns members|services|endpoints|lookup|register|deregister|keygen ...
                                       ask the running node (podswarm-dns COMMAND --help)`;

interface Args {
  conf?: string;
  port?: number;
  upstream?: string;
  node?: string;
  state?: string;
  workers: number;
  udpIo?: UdpIoMode;
  json: boolean;
  level: LogLevel;
  quiet: boolean;
  plugins: boolean;
  version: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const args: Args = { workers: 1, json: false, level: 'info', quiet: false, plugins: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (!raw.startsWith('-')) throw new UsageError(`unexpected argument '${raw}'`);
    const eq = raw.indexOf('=');
    const flag = (eq >= 0 ? raw.slice(0, eq) : raw).replace(/^--?/, '');
    const value = (): string => {
      if (eq >= 0) return raw.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`-${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case 'conf':
        args.conf = value();
        break;
      case 'dns.port':
      case 'p': {
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new UsageError(`-${flag}: '${v}' is not a port number`);
        args.port = n;
        break;
      }
      case 'upstream-dns':
        args.upstream = value();
        break;
      case 'node':
        args.node = value();
        break;
      case 'state':
        args.state = value();
        if (args.state === '') throw new UsageError('-state needs a directory (or off)');
        break;
      case 'workers': {
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1 || n > 64) throw new UsageError(`-workers: '${v}' is not a number from 1 to 64`);
        args.workers = n;
        break;
      }
      case 'udp.io': {
        const v = value();
        if (!isUdpIoMode(v)) throw new UsageError(`-udp.io: '${v}' is not one of ${UDP_IO_MODES.join(', ')}`);
        args.udpIo = v;
        break;
      }
      case 'log.json':
        args.json = true;
        break;
      case 'log.level': {
        const v = value();
        if (!isLogLevel(v)) throw new UsageError(`-log.level: '${v}' is not one of ${LOG_LEVELS.join(', ')}`);
        args.level = v;
        break;
      }
      case 'quiet':
        args.quiet = true;
        break;
      case 'plugins':
        args.plugins = true;
        break;
      case 'version':
        args.version = true;
        break;
      case 'h':
      case 'help':
        process.stdout.write(USAGE + '\n');
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown option '${raw}'`);
    }
  }
  return args;
}

function defaultCorefile(): string {
  return existsSync('Corefile') ? 'Corefile' : fileURLToPath(new URL('Corefile.example', PACKAGE_ROOT));
}

async function main(): Promise<void> {
  if (process.argv[2] === 'setup') {
    const { runSetup } = await import('./setup/index.js');
    process.exit(await runSetup(process.argv.slice(3)));
  }
  if (CTL_COMMANDS.has(process.argv[2] ?? '')) {
    const { runCtl } = await import('./ctl/index.js');
    process.exit(await runCtl(process.argv[2]!, process.argv.slice(3)));
  }
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`podswarm-dns: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (args.version) {
    process.stdout.write(`podswarm-dns-${VERSION}\n`);
    return;
  }
  if (args.plugins) {
    process.stdout.write(PLUGINS.map((p) => p.name).join('\n') + '\n');
    return;
  }
  // Workers parse the same argv (node:cluster forks with it), so they log at this level too.
  const log = createLogger({ json: args.json, level: args.level });
  const upstreamText = args.upstream ?? process.env.UPSTREAM_DNS;
  let upstreams: string[] | undefined;
  try {
    upstreams = upstreamText === undefined || upstreamText === '' ? undefined : parseUpstreamList(upstreamText);
  } catch (e) {
    process.stderr.write(`podswarm-dns: ${args.upstream !== undefined ? '-upstream-dns' : 'UPSTREAM_DNS'}: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const udpIoText = args.udpIo ?? process.env.PODSWARM_UDP_IO;
  if (udpIoText !== undefined && udpIoText !== '' && !isUdpIoMode(udpIoText)) {
    process.stderr.write(`podswarm-dns: PODSWARM_UDP_IO: '${udpIoText}' is not one of ${UDP_IO_MODES.join(', ')}\n`);
    process.exit(2);
  }
  const app = new App(
    {
      corefile: args.conf ?? defaultCorefile(),
      portOverride: args.port,
      upstreams,
      quiet: args.quiet,
      nodeName: args.node ?? defaultNodeName(),
      stateDir: args.state,
      role: isWorkerProcess() ? 'worker' : args.workers > 1 ? 'primary' : undefined,
      udpIo: udpIoText === undefined || udpIoText === '' ? undefined : udpIoText,
    },
    log,
  );
  await new Lifecycle(app, args.workers).start(signals);
}

// Before anything else: until a handler is installed, SIGUSR1 opens Node's inspector.
const signals = trapSignals();
void main();
