// The service registry's data model (seed: "Service Discovery API").

export type Protocol = 'tcp' | 'udp';

export interface ServicePort {
  /** Named port, used in SRV names: `_<name>._<protocol>.<svc>.<ns>.<zone>`. */
  name: string;
  port: number;
  protocol: Protocol;
}

export interface Service {
  namespace: string;
  name: string;
  ports: ServicePort[];
  /**
   * Kubernetes `type: ExternalName`: the service is an alias, answered as a
   * CNAME to this host name (lowercase, no trailing dot), and has no endpoints.
   */
  externalName?: string;
}

/**
 * How the owning node probes an endpoint (plugins/healthcheck). Endpoints
 * without one are never contacted: addresses in a registry may be examples.
 */
export interface HealthCheck {
  /** Port on the endpoint's address. */
  port: number;
  /** HTTP GET this path (2xx/3xx is healthy); without it a TCP connect is the check. */
  httpPath?: string;
  /**
   * Served before the first check passes? Default no (Kubernetes readiness:
   * an endpoint that declares a check is not served until it passes once).
   */
  initially?: 'healthy';
}

/** Libpod's `State.Health.Status` of a container with a HEALTHCHECK (`--health-cmd`). */
export type PodmanHealth = 'starting' | 'healthy' | 'unhealthy';

/** The latest result of this node's check of an endpoint; changes only when the result does. */
export interface CheckResult {
  ok: boolean;
  /** Milliseconds since the epoch: when checks began giving this result. */
  since: number;
  /** Why the failing checks fail. */
  error?: string;
}

export interface Endpoint {
  namespace: string;
  service: string;
  /** DNS-safe endpoint name: hostname/container name, else the dashed IP. */
  name: string;
  /** The node that hosts (and owns) this endpoint. */
  nodeName: string;
  /** IPv4 or IPv6 address, in canonical text form. */
  address: string;
  ports: ServicePort[];
  /** SRV weight (0-65535); without one, every endpoint of an answer gets an equal share. */
  weight?: number;
  /**
   * Served (DNS, SRV, the API's `?healthy=true`). The owner composes it from
   * its inputs below (src/healthcheck/served.ts); other nodes take it as it comes.
   */
  healthy: boolean;
  /** Set when the owning node should check this endpoint. */
  healthCheck?: HealthCheck;
  /** Set when the endpoint is a Podman container with a HEALTHCHECK. */
  podmanHealth?: PodmanHealth;
  /** The owner's latest check result (with healthCheck). */
  lastCheck?: CheckResult;
  /** Milliseconds since the epoch of the last change. */
  updatedAt: number;
}

/** Everything one source (a file, gossip from one node, the API, Podman) contributes. */
export interface SourceSnapshot {
  services: Service[];
  endpoints: Endpoint[];
}

/** A service as the answer paths see it: merged over all sources. */
export interface ServiceView {
  service: Service;
  endpoints: Endpoint[];
  healthy: Endpoint[];
  /** Registry index at this service's last change (Consul-style blocking queries). */
  modifyIndex: number;
}

/** One changed service; emitted in batches as the registry's 'change' event. */
export interface ServiceKey {
  namespace: string;
  service: string;
}
