// The plugin contract, as in CoreDNS: a handler answers (writes a response)
// or hands the query to the next handler. Returning one of the "client
// error" rcodes without writing asks the server to write that error.

import type { Directive, ServerBlock } from '../corefile/types.js';
import type { Request } from '../dns/request.js';
import { Rcode } from '../dns/constants.js';
import type { App } from '../app.js';

export interface ResponseWriter {
  /** Sends a complete response (wire bytes). The server truncates it for UDP. */
  write(msg: Buffer): void;
  readonly written: boolean;
  /**
   * Optional: a buffer of exactly `length` bytes to build the reply in when
   * the listener can send it from there (the batch path's send slot), so it
   * is not copied again. Fill it and write() it at once, before anything else
   * is written. Undefined when there is none (another transport, a reply too
   * large for the client, a writer in between): build a buffer of your own.
   * Only the server's own writer offers one.
   */
  sendBuffer?(length: number): Buffer | undefined;
}

export type Result = number | Promise<number>;

export interface Handler {
  readonly name: string;
  /**
   * A handler may use `req` while serveDNS runs and, when it returns a
   * promise, until that settles. Work that outlives both (a background
   * refresh) calls req.keep() before serveDNS returns: on the batch path the
   * query's bytes are lent from a receive slot the next batch reuses.
   */
  serveDNS(req: Request, w: ResponseWriter): Result;
}

/** rcodes meaning "nothing was written: the server writes this error" (CoreDNS ClientWrite). */
export function isUnwrittenError(rcode: number): boolean {
  return rcode === Rcode.SERVFAIL || rcode === Rcode.REFUSED || rcode === Rcode.FORMERR || rcode === Rcode.NOTIMP;
}

/** Returned by a handler that sends no reply at all (acl `drop`): the server writes nothing. */
export const NO_REPLY = -1;

/** The handler that ends every chain: nothing answered, so SERVFAIL. */
export const endOfChain: Handler = {
  name: 'end',
  serveDNS: () => Rcode.SERVFAIL,
};

export type Hook = () => void | Promise<void>;

/** What a plugin may ask of the running process; the lifecycle (src/server/lifecycle.ts) answers. */
export interface ProcessControl {
  reload(): Promise<void>;
  fatal(message: string): void;
}

/** Everything a plugin's setup can see and register for one server block. */
export interface SetupContext {
  /** Every occurrence of this plugin's directive in the block, in file order. */
  readonly directives: Directive[];
  readonly block: ServerBlock;
  /** The block's zones (from its keys), fully qualified and lowercased. */
  readonly zones: string[];
  /** Server label as CoreDNS prints it, e.g. "dns://:1053". */
  readonly server: string;
  readonly app: App;
  /**
   * Adds this plugin's handler; the chain places it by the fixed order.
   * `tracksWriter`: the handler reads replyWriterName() (src/chain/reply-writer.ts)
   * to learn which later handler wrote the reply; only then do they pay for naming it.
   */
  handler(factory: (next: Handler) => Handler, opts?: { tracksWriter?: boolean }): void;
  // The lifecycle's hooks (caddy's controller; the order they run in is
  // src/server/lifecycle.ts). A reload starts the new config beside the old
  // one, so what both use is handed over (src/chain/kept-across-reload.ts),
  // never closed and reopened.
  /** The config is about to serve: at start and after every reload. May bind ports. */
  onStartup(fn: Hook): void;
  /** The config stops serving: replaced by a reload, or at the final shutdown. */
  onShutdown(fn: Hook): void;
  /** A reload is about to build the next config: runs on the one serving now. Throwing refuses the reload. */
  onRestart(fn: Hook): void;
  /** A reload was refused (a bad Corefile, a startup that failed): runs on the config that keeps serving. */
  onRestartFailed(fn: Hook): void;
  /** The process stops for good: after onShutdown, and never on a reload. */
  onFinalShutdown(fn: Hook): void;
  /** Reads and applies the Corefile again (the reload plugin); rejects when the new one is refused. */
  reload(): Promise<void>;
  /** Stops the node for good (a forwarding loop): logged, exit status 1. */
  fatal(message: string): void;
  /** After SIGTERM, keep answering for `ms` before the listeners close (health's lameduck; the longest asked for wins). */
  lameduck(ms: number): void;
  /** Addresses this block listens on (set by `bind`; default all interfaces). */
  setBind(addresses: string[]): void;
}

export interface PluginDef {
  readonly name: string;
  /**
   * 'control' plugins hold node-wide state or ports (gossip, API, Podman,
   * health checks, HTTP endpoints): with `-workers N` they run once, in the
   * primary, and the DNS workers skip them.
   */
  readonly scope?: 'control';
  setup(c: SetupContext): void;
}

/** The zone among `zones` that `qname` falls in (longest match), or undefined. */
export function matchZone(qname: string, zones: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const z of zones) {
    if (isSubdomain(qname, z) && (best === undefined || z.length > best.length)) best = z;
  }
  return best;
}

/** True when `name` equals `zone` or lies below it (both lowercased FQDNs). */
export function isSubdomain(name: string, zone: string): boolean {
  if (zone === '.') return true;
  if (name.length === zone.length) return name === zone;
  return name.length > zone.length && name.endsWith(zone) && name.charCodeAt(name.length - zone.length - 1) === 0x2e;
}
