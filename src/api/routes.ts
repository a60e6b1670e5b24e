// The discovery API's routes, as one table: fastify registers them and the
// OpenAPI document is generated from the same entries.

import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { parseDuration } from '../corefile/args.js';
import { CorefileError } from '../corefile/types.js';
import type { Registry } from '../registry/registry.js';
import { canonicalAddress, canonicalHostName } from '../registry/names.js';
import type { Endpoint, ServicePort, ServiceView } from '../registry/types.js';
import { isOwnSource, sourceKey } from '../sources/source-id.js';
import { checkBearer } from './auth.js';
import { DEFAULT_WAIT_MS, MAX_WAIT_MS, type ChangeWaiters, type Scope } from './blocking.js';
import { ApiError } from './errors.js';
import type { MembersSource } from './members.js';
import {
  blockingQuery,
  endpointParam,
  endpointSchema,
  errorSchema,
  externalNameBody,
  externalNameSchema,
  membersSchema,
  nsParam,
  registerBody,
  serviceSummarySchema,
  svcParam,
} from './schemas.js';
import type { EndpointSources } from './sources.js';
import { endpointJson, firstPortName, healthyAddresses, summaryJson } from './views.js';

/** Registry source id for endpoints registered through the API. */
export const API_SOURCE = sourceKey({ kind: 'api' });
export const INDEX_HEADER = 'x-podswarm-index';

/** What the routes read; swapped on reload without restarting the server. */
export interface ApiSettings {
  token: string | undefined;
  nodeName: string;
}

export interface RouteContext {
  registry: Registry;
  waiters: ChangeWaiters;
  sources: EndpointSources;
  members: MembersSource;
  settings(): ApiSettings;
  /** Resolves once the API's registrations as of now are durable (at once without a state directory). */
  persist(): Promise<void>;
}

export interface RouteDef {
  method: 'GET' | 'PUT' | 'DELETE';
  url: string;
  summary: string;
  /** Needs the bearer token. */
  auth?: boolean;
  /** Supports `?index=&wait=` and sets the index header. */
  blocking?: boolean;
  schema: FastifySchema & { response: Record<number, unknown> };
  handler(c: RouteContext, req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

type Params = { ns: string; svc: string; name: string };
type BlockingQuery = { index?: number; wait?: string };

const svcParams = { type: 'object', required: ['ns', 'svc'], properties: { ns: nsParam, svc: svcParam } } as const;
const epParams = { type: 'object', required: ['ns', 'svc', 'name'], properties: { ns: nsParam, svc: svcParam, name: endpointParam } } as const;
const errors = { 400: errorSchema, 404: errorSchema };

export const ROUTES: RouteDef[] = [
  {
    method: 'GET',
    url: '/api/v1/members',
    summary: 'The cluster members this node knows (itself alone without gossip)',
    schema: { response: { 200: membersSchema } },
    async handler(c) {
      return c.members();
    },
  },
  {
    method: 'GET',
    url: '/api/v1/services',
    summary: 'List all services',
    blocking: true,
    schema: {
      querystring: { type: 'object', properties: blockingQuery },
      response: { 200: { type: 'array', items: serviceSummarySchema }, 400: errorSchema },
    },
    async handler(c, req, reply) {
      await block(c, req, reply, {});
      return listServices(c.registry.services());
    },
  },
  {
    method: 'GET',
    url: '/api/v1/services/:ns',
    summary: 'List the services of one namespace',
    blocking: true,
    schema: {
      params: { type: 'object', required: ['ns'], properties: { ns: nsParam } },
      querystring: { type: 'object', properties: blockingQuery },
      response: { 200: { type: 'array', items: serviceSummarySchema }, ...errors },
    },
    async handler(c, req, reply) {
      const { ns } = req.params as Params;
      await block(c, req, reply, { namespace: ns });
      if (!c.registry.hasNamespace(ns)) throw new ApiError(404, `namespace '${ns}' not found`);
      return listServices(c.registry.services(ns));
    },
  },
  {
    method: 'GET',
    url: '/api/v1/services/:ns/:svc/endpoints',
    summary: "A service's endpoints (all, or only healthy ones)",
    blocking: true,
    schema: {
      params: svcParams,
      querystring: { type: 'object', properties: { healthy: { type: 'boolean', description: 'Only healthy endpoints' }, ...blockingQuery } },
      response: { 200: { type: 'array', items: endpointSchema }, ...errors },
    },
    async handler(c, req, reply) {
      const view = await blockOnService(c, req, reply);
      const { healthy } = req.query as { healthy?: boolean };
      return (healthy ? view.healthy : view.endpoints).map((e) => endpointJson(view, e, c.sources.of(e)));
    },
  },
  {
    method: 'GET',
    url: '/api/v1/services/:ns/:svc/addresses',
    summary: "`ip:port` of a service's healthy endpoints",
    blocking: true,
    schema: {
      params: svcParams,
      querystring: {
        type: 'object',
        properties: { port: { ...endpointParam, description: "Port name (default: the service's first port)" }, ...blockingQuery },
      },
      response: {
        200: { type: 'object', required: ['addresses'], properties: { addresses: { type: 'array', items: { type: 'string' } } } },
        ...errors,
      },
    },
    async handler(c, req, reply) {
      const view = await blockOnService(c, req, reply);
      const { port } = req.query as { port?: string };
      const name = port ?? firstPortName(view);
      const { namespace, name: svc } = view.service;
      if (name === undefined) throw new ApiError(404, `service '${svc}' in namespace '${namespace}' has no ports`);
      if (!view.endpoints.some((e) => e.ports.some((p) => p.name === name)) && !view.service.ports.some((p) => p.name === name)) {
        throw new ApiError(404, `service '${svc}' in namespace '${namespace}' has no port named '${name}'`);
      }
      return { addresses: healthyAddresses(view, name) };
    },
  },
  {
    method: 'PUT',
    url: '/api/v1/services/:ns/:svc/endpoints/:name',
    summary: 'Register (or replace) an endpoint that is not a Podman container',
    auth: true,
    schema: {
      params: epParams,
      body: registerBody,
      response: {
        200: endpointSchema,
        201: endpointSchema,
        401: errorSchema,
        403: errorSchema,
        409: errorSchema,
        413: errorSchema,
        503: errorSchema,
        ...errors,
      },
    },
    async handler(c, req, reply) {
      const { ns, svc, name } = req.params as Params;
      const body = req.body as { address: string; ports?: ServicePort[]; nodeName?: string; healthy?: boolean; weight?: number };
      const address = canonicalAddress(body.address);
      if (address === undefined) throw new ApiError(400, `body.address '${body.address}' is not an IP address`);
      const dup = duplicate((body.ports ?? []).map((p) => p.name));
      if (dup !== undefined) throw new ApiError(400, `body.ports: port name '${dup}' is used twice`);
      const view = c.registry.lookup(ns, svc);
      if (view?.service.externalName !== undefined)
        throw new ApiError(409, `service '${svc}' in namespace '${ns}' is an ExternalName alias of ${view.service.externalName}; it has no endpoints`);
      const existed = ownEndpoint(c.registry, ns, svc, name) !== undefined;
      // Another node's endpoint of this name is no obstacle (as a Consul agent's
      // service IDs are its own): the registry qualifies clashing names.
      if (!existed && heldBy(c.registry, view, name, isOwnSource)) throw foreign(ns, svc, name);
      const endpoint: Endpoint = {
        namespace: ns,
        service: svc,
        name,
        nodeName: body.nodeName ?? c.settings().nodeName,
        address,
        ports: body.ports ?? view?.service.ports ?? [],
        healthy: body.healthy ?? true,
        ...(body.weight !== undefined && { weight: body.weight }),
        updatedAt: Date.now(),
      };
      c.registry.upsertEndpoint(API_SOURCE, endpoint);
      const written = c.registry.lookup(ns, svc)!;
      await persisted(c);
      // As served now, a clashing name qualified (a later change may have come meanwhile).
      const stored = c.registry.lookup(ns, svc) ?? written;
      const served = stored.endpoints.find((e) => c.registry.provenance(e)?.endpoint === endpoint) ?? endpoint;
      void reply.code(existed ? 200 : 201).header(INDEX_HEADER, String(written.modifyIndex));
      return endpointJson(stored, served, API_SOURCE);
    },
  },
  {
    method: 'PUT',
    url: '/api/v1/services/:ns/:svc/external-name',
    summary: 'Make a service an ExternalName alias: a CNAME to a host name, with no endpoints',
    auth: true,
    schema: {
      params: svcParams,
      body: externalNameBody,
      response: { 200: externalNameSchema, 201: externalNameSchema, 401: errorSchema, 403: errorSchema, 409: errorSchema, 503: errorSchema, ...errors },
    },
    async handler(c, req, reply) {
      const { ns, svc } = req.params as Params;
      const { externalName } = req.body as { externalName: string };
      const target = canonicalHostName(externalName);
      if (target === undefined) throw new ApiError(400, `body.externalName '${externalName}' is not a host name`);
      const view = c.registry.lookup(ns, svc);
      if (view && view.endpoints.length > 0) throw new ApiError(409, `service '${svc}' in namespace '${ns}' has endpoints; an ExternalName service has none`);
      const existed = c.registry.snapshot(API_SOURCE).services.some((s) => s.namespace === ns && s.name === svc);
      c.registry.upsertService(API_SOURCE, { namespace: ns, name: svc, ports: [], externalName: target });
      await persisted(c);
      void reply.code(existed ? 200 : 201).header(INDEX_HEADER, String(c.registry.index));
      return { namespace: ns, name: svc, externalName: target };
    },
  },
  {
    method: 'DELETE',
    url: '/api/v1/services/:ns/:svc/external-name',
    summary: 'Remove an ExternalName alias registered through this API',
    auth: true,
    schema: { params: svcParams, response: { 204: { type: 'null' }, 401: errorSchema, 403: errorSchema, 503: errorSchema, ...errors } },
    async handler(c, req, reply) {
      const { ns, svc } = req.params as Params;
      if (!c.registry.removeService(API_SOURCE, ns, svc))
        throw new ApiError(404, `no ExternalName service '${svc}' in namespace '${ns}' registered through the API`);
      await persisted(c);
      return reply.code(204).send();
    },
  },
  {
    method: 'DELETE',
    url: '/api/v1/services/:ns/:svc/endpoints/:name',
    summary: 'Deregister an endpoint registered through this API',
    auth: true,
    schema: { params: epParams, response: { 204: { type: 'null' }, 401: errorSchema, 403: errorSchema, 409: errorSchema, 503: errorSchema, ...errors } },
    async handler(c, req, reply) {
      const { ns, svc, name } = req.params as Params;
      if (!c.registry.removeEndpoint(API_SOURCE, ns, svc, name)) {
        if (heldBy(c.registry, c.registry.lookup(ns, svc), name, () => true)) throw foreign(ns, svc, name);
        throw new ApiError(404, `endpoint '${name}' of service '${svc}' in namespace '${ns}' not found`);
      }
      await persisted(c);
      return reply.code(204).send();
    },
  },
];

/** Checks the bearer token before the body is even read. */
export function authorize(c: RouteContext, req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
  const r = checkBearer(c.settings().token, req.headers.authorization);
  if (r.ok) return undefined;
  if (r.status === 401) void reply.header('www-authenticate', 'Bearer realm="podswarm-dns"');
  return reply.code(r.status).send({ error: r.error });
}

function listServices(views: ServiceView[]) {
  return views.map(summaryJson).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** Parks a blocking query until its scope changes, then sets the index header. */
async function block(c: RouteContext, req: FastifyRequest, reply: FastifyReply, scope: Scope): Promise<void> {
  const { index, wait } = req.query as BlockingQuery;
  if (index !== undefined) {
    const ms = wait === undefined ? DEFAULT_WAIT_MS : Math.min(waitMs(wait), MAX_WAIT_MS);
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    // The response closing before we answer means the client went away.
    reply.raw.once('close', onClose);
    try {
      await c.waiters.wait(scope, index, ms, gone.signal);
    } finally {
      reply.raw.off('close', onClose);
    }
  }
  void reply.header(INDEX_HEADER, String(c.waiters.indexOf(scope)));
}

async function blockOnService(c: RouteContext, req: FastifyRequest, reply: FastifyReply): Promise<ServiceView> {
  const { ns, svc } = req.params as Params;
  await block(c, req, reply, { namespace: ns, service: svc });
  const view = c.registry.lookup(ns, svc);
  if (!view) throw new ApiError(404, `service '${svc}' not found in namespace '${ns}'`);
  return view;
}

function waitMs(text: string): number {
  try {
    return parseDuration({ text, file: 'query', line: 0 }, 'wait');
  } catch (e) {
    throw new ApiError(400, e instanceof CorefileError ? e.reason : String(e));
  }
}

/** Acknowledges a change only once it is durable; the change itself stays (the next save retries it). */
async function persisted(c: RouteContext): Promise<void> {
  try {
    await c.persist();
  } catch (e) {
    throw new ApiError(503, `the change is made but not saved to the state directory: ${(e as Error).message}`);
  }
}

/** Whether a source that `which` accepts holds an endpoint registered as `name` (before any qualifying). */
function heldBy(registry: Registry, view: ServiceView | undefined, name: string, which: (source: string) => boolean): boolean {
  return (view?.endpoints ?? []).some((e) => {
    const p = registry.provenance(e);
    return p !== undefined && p.endpoint.name === name && which(p.source);
  });
}

function ownEndpoint(registry: Registry, ns: string, svc: string, name: string): Endpoint | undefined {
  return registry.endpoint(API_SOURCE, ns, svc, name);
}

function foreign(ns: string, svc: string, name: string): ApiError {
  return new ApiError(
    409,
    `endpoint '${name}' of service '${svc}' in namespace '${ns}' was not registered through the API (it comes from Podman, a registry file or another node)`,
  );
}

function duplicate(names: string[]): string | undefined {
  return names.find((n, i) => names.indexOf(n) !== i);
}
