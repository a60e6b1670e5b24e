// Side HTTP endpoints (health, ready, metrics). One node:http server per
// listen address, kept across reloads (src/chain/kept-across-reload.ts):
// configs register paths on it and release them, so a reload that keeps an
// address keeps the socket and never races itself into "address already in
// use" (CoreDNS #1618, #1706).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { App } from '../app.js';
import { KeptAcrossReload } from '../chain/kept-across-reload.js';
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
  private readonly server = createServer((req, res) => this.serve(req, res));

  /** Listening on `address`; rejects when it cannot bind. */
  static async listen(address: HttpAddress): Promise<SharedServer> {
    const s = new SharedServer();
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(address.port, address.host === '' ? undefined : address.host, () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    return s;
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

const servers = new KeptAcrossReload<SharedServer>({ name: 'HTTP listener', dispose: (s) => s.close() });

/**
 * Serves `path` on `address` until the returned release is called. Binds the
 * address on first use; rejects (and keeps nothing) when it cannot.
 */
export async function servePath(app: App, address: HttpAddress, path: string, handler: PathHandler): Promise<() => Promise<void>> {
  const key = joinHostPort(address.host, address.port);
  const share = await servers
    .use(app, key, () => SharedServer.listen(address))
    .catch((err: unknown) => {
      throw new Error(`listen on ${key}: ${(err as Error).message}`);
    });
  const { registrations } = share.value;
  const reg: Registration = { path, handler };
  registrations.push(reg);
  return async () => {
    const i = registrations.indexOf(reg);
    if (i < 0) return;
    registrations.splice(i, 1);
    await share.release();
  };
}
