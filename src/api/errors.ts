// Every error the API returns is `{ "error": "<message>" }` with a 4xx for
// anything the client sent; only our own faults are 500s (and logged).

import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import type { SchemaErrorDataVar } from 'fastify/types/schema.js';
import type { Logger } from '../log.js';
import { DNS_LABEL_FORMAT } from './schemas.js';

/** An error with the status and message the client should see. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const WHAT: Record<string, string> = { ns: 'namespace', svc: 'service name', name: 'endpoint name' };

/** Turns ajv's first complaint into one sentence that names the field and the value. */
export function formatSchemaError(errors: FastifySchemaValidationError[], dataVar: SchemaErrorDataVar): Error {
  const e = errors[0]!;
  const field = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const what = fieldName(dataVar, field);
  if (e.keyword === 'format' && e.params.format === DNS_LABEL_FORMAT) {
    const value = (e as { data?: unknown }).data;
    return new ApiError(
      400,
      `malformed ${what} ${JSON.stringify(value)}: expected a DNS label (lowercase letters, digits and '-', 1-63 characters, starting and ending with a letter or digit)`,
    );
  }
  if (e.keyword === 'additionalProperties') return new ApiError(400, `${what}: unknown property '${String(e.params.additionalProperty)}'`);
  return new ApiError(400, `${what} ${e.message ?? 'is invalid'}`);
}

function fieldName(dataVar: SchemaErrorDataVar, field: string): string {
  if (field === '') return dataVar;
  if (dataVar === 'params') return WHAT[field] ?? field;
  if (dataVar === 'querystring') return `query parameter '${field}'`;
  return `${dataVar}.${field}`;
}

export function errorHandler(log: Logger) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      void reply.code(status).send({ error: clientMessage(err) });
      return;
    }
    // Our own fault, but one with a message the client can act on (retry).
    if (err instanceof ApiError && status === 503) {
      log.error(`${req.method} ${req.url}: ${err.message}`);
      void reply.code(503).send({ error: err.message });
      return;
    }
    log.error(`${req.method} ${req.url}: ${err.stack ?? err.message}`);
    void reply.code(500).send({ error: 'internal error' });
  };
}

/** Fastify's own 4xx messages, reworded where they would puzzle an API user. */
function clientMessage(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'request body too large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported content type: send application/json';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return `malformed JSON body: ${err.message}`;
    default:
      // JSON.parse errors arrive as SyntaxError with status 400.
      return err instanceof SyntaxError ? `malformed JSON body: ${err.message}` : err.message;
  }
}
