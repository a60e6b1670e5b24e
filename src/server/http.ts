// Side HTTP endpoints (health, ready, metrics). One node:http server per
// listen address for the life of the process: configs register paths on it
// and release them, so a reload that keeps an address keeps the socket and
// never races itself into "address already in use" (CoreDNS #1618, #1706).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { App } from '../app.js';
import { CorefileError, type Token } from '../corefile/types.js';
import { joinHostPort, parseListenAddress } from '../util/hostport.js';

export type PathHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpAddress {
  /** Empty for all interfaces (`:8080`). */
  host: string;
  port: number;
}

/** Parses `[HOST]:PORT` as CoreDNS health/ready/prometheus take it (`:8080`, `localhost:9153`, `[::1]:8181`). */
export function parseHttpAddress(tok: Token, plugin: string): HttpAddress {
  const address = parseListenAddress(tok.text);
  if (!address) throw CorefileError.at(tok, `${plugin}: '${tok.text}' is not an address of the form [HOST]:PORT`);
  return address;
}

interface Registration {
  readonly path: string;
  readonly handler: PathHandler;
}

/** One listening server and everything registered on it. */
class SharedServer {
  /** In registration order; the newest registration of a path serves it (the config being started). */
  readonly registrations: Registration[] = [];
  readonly server: Server;
  readonly listening: Promise<void>;

  constructor(address: HttpAddress) {
    this.server = createServer((req, res) => this.serve(req, res));
    this.listening = new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(address.port, address.host === '' ? undefined : address.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0];
    for (let i = this.registrations.length - 1; i >= 0; i--) {
      const r = this.registrations[i]!;
      if (r.path === path) return r.handler(req, res);
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // Node closes idle keep-alive connections on close(); requests in flight finish.
      this.server.closeIdleConnections();
    });
  }
}

export class HttpListeners {
  private readonly servers = new Map<string, SharedServer>();

  /**
   * Serves `path` on `address` until the returned release is called. Binds the
   * address on first use; rejects (and keeps nothing) when it cannot.
   */
  async register(address: HttpAddress, path: string, handler: PathHandler): Promise<() => Promise<void>> {
    const key = joinHostPort(address.host, address.port);
    let shared = this.servers.get(key);
    if (!shared) {
      shared = new SharedServer(address);
      this.servers.set(key, shared);
    }
    const reg: Registration = { path, handler };
    shared.registrations.push(reg);
    const s = shared;
    try {
      await s.listening;
    } catch (err) {
      await this.unregister(key, s, reg);
      throw new Error(`listen on ${key}: ${(err as Error).message}`);
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await this.unregister(key, s, reg);
    };
  }

  private async unregister(key: string, s: SharedServer, reg: Registration): Promise<void> {
    const i = s.registrations.indexOf(reg);
    if (i >= 0) s.registrations.splice(i, 1);
    if (s.registrations.length > 0 || this.servers.get(key) !== s) return;
    this.servers.delete(key);
    await s.listening.then(() => s.close(), () => {});
  }
}

const byApp = new WeakMap<App, HttpListeners>();

/** The process's side HTTP listeners (one set per App, outliving reloads). */
export function httpListeners(app: App): HttpListeners {
  let l = byApp.get(app);
  if (!l) {
    l = new HttpListeners();
    byApp.set(app, l);
  }
  return l;
}
