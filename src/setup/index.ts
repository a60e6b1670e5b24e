// `podswarm-dns setup ...`: the node set-up subcommands (see README "Podman node").

import { isIP, isIPv4 } from 'node:net';
import { DEFAULT_ADDRESS } from './node-address.js';
import { DEFAULT_COREFILE } from './node-corefile.js';
import { ensureLink, setupPodman, SetupError, undoPodman } from './podman-node.js';

export const SETUP_USAGE = `Usage:
  podswarm-dns setup podman [options]   make this host a Podman node
      --address IP          the node's DNS address (default ${DEFAULT_ADDRESS}), put on lo
      --address6 IP6        also an IPv6 address, for IPv6-only Podman networks
      --gossip ADDR[:PORT]  this node's cluster address (adds a gossip block to a new Corefile)
      --join HOST[:PORT]    a node to join (repeatable; with --gossip)
      --podman-socket PATH  libpod socket for a new Corefile (default /run/podman/podman.sock)
      --corefile FILE       where the node's Corefile is written if missing (default ${DEFAULT_COREFILE})
      --dry-run             print what would change, change nothing
      --undo                take back what setup did (files still as setup wrote them, the address)
  podswarm-dns setup link   put the node's address back on lo (at boot, before the server)`;

class UsageError extends Error {}

/** Runs a setup subcommand; resolves to the exit status. */
export async function runSetup(argv: string[]): Promise<number> {
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  try {
    const [what, ...rest] = argv;
    if (what === '--help' || what === '-h' || what === 'help') {
      say(SETUP_USAGE);
      return 0;
    }
    if (what === 'link') {
      if (rest.length > 0) throw new UsageError(`setup link takes no options ('${rest[0]}')`);
      await ensureLink({ say });
      return 0;
    }
    if (what !== 'podman') throw new UsageError(what === undefined ? 'setup: say what to set up' : `setup: unknown target '${what}'`);
    const o = parseOptions(rest);
    if (o.undo) await undoPodman(o, { say });
    else await setupPodman(o, { say });
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`podswarm-dns: ${e.message}\n${SETUP_USAGE}\n`);
      return 2;
    }
    const msg = e instanceof SetupError ? e.message : (e as Error).message;
    process.stderr.write(`podswarm-dns setup: ${msg}\n`);
    return 1;
  }
}

interface Options {
  addresses: string[];
  gossipBind?: string;
  join: string[];
  podmanSocket?: string;
  corefile: string;
  dryRun: boolean;
  undo: boolean;
}

function parseOptions(argv: string[]): Options {
  let v4 = DEFAULT_ADDRESS;
  let v6: string | undefined;
  const o: Options = { addresses: [], join: [], corefile: DEFAULT_COREFILE, dryRun: false, undo: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const flag = (eq >= 0 ? raw.slice(0, eq) : raw).replace(/^--?/, '');
    const value = (): string => {
      const v = eq >= 0 ? raw.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`--${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case 'address':
        v4 = nodeAddress(flag, value(), 4);
        break;
      case 'address6':
        v6 = nodeAddress(flag, value(), 6);
        break;
      case 'gossip':
        o.gossipBind = value();
        break;
      case 'join':
        o.join.push(value());
        break;
      case 'podman-socket':
        o.podmanSocket = value();
        if (!o.podmanSocket.startsWith('/')) throw new UsageError(`--podman-socket: '${o.podmanSocket}' is not an absolute path`);
        break;
      case 'corefile':
        o.corefile = value();
        if (!o.corefile.startsWith('/')) throw new UsageError(`--corefile: '${o.corefile}' is not an absolute path`);
        break;
      case 'dry-run':
        o.dryRun = true;
        break;
      case 'undo':
        o.undo = true;
        break;
      default:
        throw new UsageError(`setup podman: unknown option '${raw}'`);
    }
  }
  if (o.join.length > 0 && o.gossipBind === undefined) throw new UsageError("--join needs --gossip (this node's own cluster address)");
  o.addresses = v6 ? [v4, v6] : [v4];
  return o;
}

/** Containers reach the node through their default route: loopback, unspecified and multicast addresses cannot be that. */
function nodeAddress(flag: string, s: string, family: 4 | 6): string {
  if (isIP(s) !== family) throw new UsageError(`--${flag}: '${s}' is not an IPv${family} address`);
  const bad = isIPv4(s) ? /^(127\.|0\.|2(2[4-9]|[3-5]\d)\.)/.test(s) : /^(::1?$|ff)/i.test(s);
  if (bad) throw new UsageError(`--${flag}: ${s} cannot be reached from containers (loopback, unspecified or multicast)`);
  return s;
}
