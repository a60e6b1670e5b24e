// The OpenAPI 3.1 document, generated from the route table so it cannot
// drift from what the server validates and sends.

import { VERSION } from '../version.js';
import { INDEX_HEADER, type RouteDef } from './routes.js';

type Json = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'Deleted',
  400: 'Malformed request',
  401: 'Missing or wrong bearer token',
  403: 'Registration disabled (no token configured)',
  404: 'Not found',
  409: 'Endpoint owned by another source',
  413: 'Body too large',
};

export function openApiDocument(routes: readonly RouteDef[]): Json {
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'podswarm-dns service discovery API', version: VERSION },
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
}

function operation(r: RouteDef): Json {
  const parameters = [...fields(r.schema.params, 'path'), ...fields(r.schema.querystring, 'query')];
  const responses: Json = {};
  for (const [code, schema] of Object.entries(r.schema.response)) {
    const status = Number(code);
    const res: Json = { description: STATUS_TEXT[status] ?? 'Response' };
    if (status !== 204) res.content = { 'application/json': { schema } };
    if (r.blocking && status === 200) res.headers = { [INDEX_HEADER]: { schema: { type: 'integer' }, description: 'Index for the next blocking query' } };
    responses[code] = res;
  }
  const op: Json = { summary: r.summary, operationId: `${r.method.toLowerCase()}${r.url.replace(/\/api\/v1|[/:{}]/g, '_')}`, parameters, responses };
  if (r.schema.body) op.requestBody = { required: true, content: { 'application/json': { schema: r.schema.body } } };
  if (r.auth) op.security = [{ bearer: [] }];
  return op;
}

function fields(schema: unknown, where: 'path' | 'query'): Json[] {
  const s = schema as { properties?: Record<string, Json>; required?: string[] } | undefined;
  return Object.entries(s?.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || (s?.required ?? []).includes(name),
    ...(prop.description ? { description: prop.description } : {}),
    schema: prop,
  }));
}
