// One running API server per listen address for the life of the App. A
// reload starts the new config before it stops the old one, so each config
// takes a lease: the newest lease's settings are served, and the server
// closes only when its last lease is released. No port is closed and
// reopened across a reload.

import type { FastifyInstance } from 'fastify';
import type { App } from '../app.js';
import { joinHostPort } from '../util/hostport.js';
import { membersOf } from './members.js';
import { registrationsOf } from './persist.js';
import type { ApiSettings } from './routes.js';

interface Shared {
  server: FastifyInstance;
  /** Newest last. */
  leases: ApiSettings[];
}

const servers = new WeakMap<App, Map<string, Shared>>();

export interface ApiLease {
  release(): Promise<void>;
}

/** Serves the API on host:port with `settings`, reusing a running server there. */
export async function acquireApi(app: App, host: string, port: number, settings: ApiSettings): Promise<ApiLease> {
  let byListen = servers.get(app);
  if (!byListen) servers.set(app, (byListen = new Map()));
  const key = `${host}|${port}`;
  let shared = byListen.get(key);
  if (!shared) {
    const leases: ApiSettings[] = [];
    // Loaded on use: fastify costs memory a node without the API should not pay.
    const { createApiServer } = await import('./server.js');
    const persist = async (): Promise<void> => registrationsOf(app)?.save();
    const server = createApiServer(app.registry, () => leases[leases.length - 1]!, app.pluginLog('api'), () => membersOf(app), persist);
    try {
      await server.listen({ host, port });
    } catch (e) {
      await server.close();
      throw new Error(`api: cannot listen on ${host}:${port}: ${(e as Error).message}`);
    }
    shared = { server, leases };
    byListen.set(key, shared);
    app.pluginLog('api').info(`listening on http://${joinHostPort(host, port)}`);
  }
  const s = shared;
  s.leases.push(settings);
  return {
    async release() {
      const i = s.leases.indexOf(settings);
      if (i < 0) return;
      s.leases.splice(i, 1);
      if (s.leases.length > 0) return;
      byListen.delete(key);
      await s.server.close();
    },
  };
}
