// One running API server per listen address, kept across reloads
// (src/chain/kept-across-reload.ts). A reload starts the new config before
// it stops the old one, so each config takes a lease: the newest lease's
// settings are served, and the server closes only when its last lease is
// released. No port is closed and reopened across a reload.

import type { FastifyInstance } from 'fastify';
import type { App } from '../app.js';
import { KeptAcrossReload } from '../chain/kept-across-reload.js';
import { joinHostPort } from '../util/hostport.js';
import { membersOf } from './members.js';
import { registrationsOf } from './persist.js';
import type { ApiSettings } from './routes.js';

interface ApiServer {
  server: FastifyInstance;
  /** Newest last. */
  leases: ApiSettings[];
}

const servers = new KeptAcrossReload<ApiServer>({ name: 'API listener', dispose: ({ server }) => server.close() });

export interface ApiLease {
  release(): Promise<void>;
}

/** Serves the API on host:port with `settings`, reusing a running server there. */
export async function acquireApi(app: App, host: string, port: number, settings: ApiSettings): Promise<ApiLease> {
  const share = await servers.use(app, `${host}|${port}`, () => startApi(app, host, port));
  const { leases } = share.value;
  leases.push(settings);
  return {
    async release() {
      const i = leases.indexOf(settings);
      if (i < 0) return;
      leases.splice(i, 1);
      await share.release();
    },
  };
}

async function startApi(app: App, host: string, port: number): Promise<ApiServer> {
  const leases: ApiSettings[] = [];
  // Loaded on use: fastify costs memory a node without the API should not pay.
  const { createApiServer } = await import('./server.js');
  const persist = async (): Promise<void> => registrationsOf(app)?.save();
  const server = createApiServer(
    app.registry,
    () => leases[leases.length - 1]!,
    app.pluginLog('api'),
    () => membersOf(app),
    persist,
  );
  try {
    await server.listen({ host, port });
  } catch (e) {
    await server.close();
    throw new Error(`api: cannot listen on ${host}:${port}: ${(e as Error).message}`);
  }
  app.pluginLog('api').info(`listening on http://${joinHostPort(host, port)}`);
  return { server, leases };
}
