// Builds the fastify instance that serves the discovery API.

import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';
import type { Registry } from '../registry/registry.js';
import { isDnsLabel } from '../registry/names.js';
import { ChangeWaiters } from './blocking.js';
import { ApiError, errorHandler, formatSchemaError } from './errors.js';
import type { MembersSource } from './members.js';
import { openApiDocument } from './openapi.js';
import { ROUTES, authorize, type ApiSettings, type RouteContext } from './routes.js';
import { DNS_LABEL_FORMAT } from './schemas.js';
import { EndpointSources } from './sources.js';

/** Registration bodies are a few hundred bytes; anything near this is a mistake. */
export const BODY_LIMIT = 16 * 1024;

const METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'PATCH', 'OPTIONS'] as const;
export const OPENAPI_URL = '/api/v1/openapi.json';

export function createApiServer(
  registry: Registry,
  settings: () => ApiSettings,
  log: Logger,
  members: MembersSource,
  persist: () => Promise<void> = async () => {},
): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // Parked blocking queries must not hold a reload or shutdown open.
    forceCloseConnections: true,
    ajv: { customOptions: { verbose: true, removeAdditional: false, formats: { [DNS_LABEL_FORMAT]: isDnsLabel } } },
    schemaErrorFormatter: formatSchemaError,
  });
  const waiters = new ChangeWaiters(registry);
  const ctx: RouteContext = { registry, waiters, sources: new EndpointSources(registry), members, settings, persist };
  app.addHook('preClose', (done) => {
    waiters.close();
    done();
  });
  app.setErrorHandler(errorHandler(log));
  // JSON only: anything else is 415, not a confusing schema error.
  app.removeContentTypeParser('text/plain');
  acceptEmptyJsonWithoutBody(app);
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no such route: ${req.method} ${req.url.split('?')[0]}` }));

  const allowed = new Map<string, string[]>();
  for (const r of ROUTES) {
    allowed.set(r.url, [...(allowed.get(r.url) ?? []), r.method]);
    app.route({
      method: r.method,
      url: r.url,
      schema: r.schema,
      onRequest: r.auth ? async (req, reply) => authorize(ctx, req, reply) : undefined,
      handler: (req, reply) => r.handler(ctx, req, reply),
    });
  }
  const doc = openApiDocument(ROUTES);
  app.get(OPENAPI_URL, async () => doc);
  allowed.set(OPENAPI_URL, ['GET']);

  for (const [url, methods] of allowed) {
    const allow = methods.includes('GET') ? [...methods, 'HEAD'] : methods;
    const others = METHODS.filter((m) => !allow.includes(m));
    app.route({
      method: others,
      url,
      handler: async (req, reply) => {
        void reply.header('allow', allow.join(', '));
        throw new ApiError(405, `method ${req.method} not allowed on ${url.replace(/:(\w+)/g, '{$1}')} (allowed: ${allow.join(', ')})`);
      },
    });
  }
  return app;
}

/**
 * Client wrappers often send `Content-Type: application/json` on every
 * request, DELETE included, with no body. Fastify refuses an empty JSON body
 * by default; on a route that reads no body it is taken as no body. Routes
 * with a body schema (PUT) still answer 400 for an empty one.
 */
function acceptEmptyJsonWithoutBody(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string; // parseAs: 'string'
    if (text === '' && req.routeOptions.schema?.body === undefined) {
      done(null, undefined);
      return;
    }
    // fastify's own parser reports through done; its return value says nothing more
    void parse(req, text, done);
  });
}
