// JSON schemas for the discovery API: fastify validates requests and
// serializes responses with them, and the OpenAPI document is built from them.

/** Custom ajv format backed by names.ts, so the API and the registry agree on names. */
export const DNS_LABEL_FORMAT = 'dns-label';

const label = (description: string) => ({ type: 'string', format: DNS_LABEL_FORMAT, maxLength: 63, description }) as const;

export const nsParam = label('Namespace (DNS label)');
export const svcParam = label('Service name (DNS label)');
export const endpointParam = label('Endpoint name (DNS label)');

export const portSchema = {
  type: 'object',
  required: ['name', 'port', 'protocol'],
  additionalProperties: false,
  properties: {
    name: label('Port name, used in SRV names'),
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    protocol: { type: 'string', enum: ['tcp', 'udp'], default: 'tcp' },
  },
} as const;

export const endpointSchema = {
  type: 'object',
  required: ['name', 'nodeName', 'address', 'port', 'ports', 'healthy', 'source'],
  properties: {
    name: { type: 'string' },
    nodeName: { type: 'string', description: 'Node that hosts the endpoint' },
    address: { type: 'string', description: 'IPv4 or IPv6 address' },
    port: { type: ['integer', 'null'], description: "The service's first port on this endpoint (null when it has none)" },
    ports: { type: 'array', items: portSchema },
    healthy: { type: 'boolean', description: 'Served: DNS answers with it, ?healthy=true lists it' },
    health: {
      type: 'object',
      description: 'What decides healthy, and its latest word',
      required: ['source'],
      properties: {
        source: { type: 'string', enum: ['podman-healthcheck', 'podswarm-check', 'podman-healthcheck+podswarm-check', 'none'] },
        podman: { type: 'string', enum: ['starting', 'healthy', 'unhealthy'], description: "The container's HEALTHCHECK status (libpod)" },
        lastCheck: {
          type: 'object',
          required: ['ok', 'since'],
          properties: { ok: { type: 'boolean' }, since: { type: 'string', format: 'date-time' }, error: { type: 'string' } },
        },
      },
    },
    source: { type: 'string', description: 'Where this node got it: api, file:PATH, podman:SOCKET, gossip:NODE (learnt from that node), ...' },
  },
} as const;

export const serviceSummarySchema = {
  type: 'object',
  required: ['namespace', 'name', 'ports', 'endpoints', 'healthyEndpoints', 'modifyIndex'],
  properties: {
    namespace: { type: 'string' },
    name: { type: 'string' },
    ports: { type: 'array', items: portSchema },
    endpoints: { type: 'integer', description: 'Number of endpoints' },
    healthyEndpoints: { type: 'integer', description: 'Number of healthy endpoints' },
    modifyIndex: { type: 'integer' },
  },
} as const;

const versionRange = (description: string) =>
  ({
    type: ['object', 'null'],
    required: ['min', 'max', 'current'],
    properties: { min: { type: 'integer' }, max: { type: 'integer' }, current: { type: 'integer' } },
    description,
  }) as const;

export const memberSchema = {
  type: 'object',
  required: ['name', 'address', 'port', 'state', 'self', 'tags', 'protocol', 'delegate', 'incarnation', 'stateChangedAt'],
  properties: {
    name: { type: 'string', description: 'Node name (-node)' },
    address: { type: ['string', 'null'], description: 'Gossip address (null when the node runs no gossip)' },
    port: { type: ['integer', 'null'], description: 'Gossip port (null when the node runs no gossip)' },
    state: { type: 'string', enum: ['alive', 'suspect', 'dead', 'left'], description: 'SWIM state: dead is a failed node, left one that left gracefully' },
    self: { type: 'boolean', description: 'The node that answered' },
    tags: { type: 'object', additionalProperties: { type: 'string' }, description: 'Serf tags' },
    protocol: versionRange('memberlist protocol versions (pmin, pmax, pcur); null without gossip'),
    delegate: versionRange('Delegate (Serf) protocol versions (dmin, dmax, dcur); null without gossip'),
    incarnation: { type: ['integer', 'null'], description: 'SWIM incarnation number; null without gossip' },
    stateChangedAt: { type: 'string', format: 'date-time', description: 'Last state change (without gossip: when the process started)' },
  },
} as const;

export const membersSchema = {
  type: 'object',
  required: ['gossip', 'members'],
  properties: {
    gossip: { type: 'boolean', description: 'False when the node runs no gossip plugin: then members is the node alone' },
    members: { type: 'array', items: memberSchema, description: 'This node first, then by name' },
  },
} as const;

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' } },
} as const;

/** Consul-style blocking query parameters. */
export const blockingQuery = {
  index: { type: 'integer', minimum: 0, description: 'Block until the result changes past this index (from X-Podswarm-Index)' },
  wait: { type: 'string', description: 'Longest time to block, e.g. 30s or 5m (default 5m, at most 10m)' },
} as const;

export const registerBody = {
  type: 'object',
  required: ['address'],
  additionalProperties: false,
  properties: {
    address: { type: 'string', description: 'IPv4 or IPv6 address' },
    ports: { type: 'array', items: portSchema, maxItems: 64, description: "Defaults to the service's ports" },
    nodeName: { type: 'string', minLength: 1, maxLength: 253, description: 'Defaults to this node' },
    healthy: { type: 'boolean', default: true },
    weight: { type: 'integer', minimum: 0, maximum: 65535, description: 'SRV weight; without one, equal shares' },
  },
} as const;

export const externalNameBody = {
  type: 'object',
  required: ['externalName'],
  additionalProperties: false,
  properties: {
    externalName: { type: 'string', minLength: 1, maxLength: 254, description: 'The host name the service is a CNAME to' },
  },
} as const;

export const externalNameSchema = {
  type: 'object',
  required: ['namespace', 'name', 'externalName'],
  properties: { namespace: { type: 'string' }, name: { type: 'string' }, externalName: { type: 'string' } },
} as const;
