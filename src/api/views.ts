// Registry views → the API's JSON shapes.

import { joinHostPort } from '../util/hostport.js';
import { type HealthSource, healthSource } from '../healthcheck/served.js';
import type { CheckResult, Endpoint, PodmanHealth, ServicePort, ServiceView } from '../registry/types.js';

/** One endpoint as the API sends it (seed: ServiceEndpoint with NodeName, Address, Port, Healthy). */
export interface EndpointJson {
  name: string;
  nodeName: string;
  address: string;
  /** The service's first port on this endpoint; null when the service has no ports. */
  port: number | null;
  ports: ServicePort[];
  /** Served: what DNS answers with and `?healthy=true` lists. */
  healthy: boolean;
  /** What decides `healthy`, and its latest word. Optional in the type, as `source`. */
  health?: HealthJson;
  /**
   * The registry source this node has it from: `api`, `file:PATH`,
   * `podman:SOCKET`, `gossip:NODE`. The API always sends it; optional in the
   * type so endpoints a program builds itself (for pickEndpoint) need none.
   */
  source?: string;
}

export interface HealthJson {
  /** `podman-healthcheck` (the container's HEALTHCHECK), `podswarm-check` (the owner's check), both joined by `+`, or `none`. */
  source: HealthSource;
  /** Libpod's HEALTHCHECK status, with a HEALTHCHECK. */
  podman?: PodmanHealth;
  /** The owner's latest check result, once it has one: since when (ISO 8601), and the error while failing. */
  lastCheck?: { ok: boolean; since: string; error?: string };
}

export interface ServiceSummaryJson {
  namespace: string;
  name: string;
  ports: ServicePort[];
  endpoints: number;
  healthyEndpoints: number;
  modifyIndex: number;
}

/** The port an endpoint serves under `name`: its own, else the service's. */
export function portOf(view: ServiceView, e: Endpoint, name: string): number | undefined {
  return (e.ports.find((p) => p.name === name) ?? view.service.ports.find((p) => p.name === name))?.port;
}

/** The service's first port name (the default for `addresses` and `port`). */
export function firstPortName(view: ServiceView): string | undefined {
  return view.service.ports[0]?.name;
}

export function endpointJson(view: ServiceView, e: Endpoint, source: string): EndpointJson {
  const first = firstPortName(view);
  return {
    name: e.name,
    nodeName: e.nodeName,
    address: e.address,
    port: first === undefined ? null : (portOf(view, e, first) ?? null),
    ports: e.ports.length > 0 ? e.ports : view.service.ports,
    healthy: e.healthy,
    health: healthJson(e),
    source,
  };
}

function healthJson(e: Endpoint): HealthJson {
  const check = e.lastCheck && checkJson(e.lastCheck);
  return { source: healthSource(e), ...(e.podmanHealth && { podman: e.podmanHealth }), ...(check && { lastCheck: check }) };
}

function checkJson(r: CheckResult): NonNullable<HealthJson['lastCheck']> {
  return { ok: r.ok, since: new Date(r.since).toISOString(), ...(r.error !== undefined && { error: r.error }) };
}

export function summaryJson(view: ServiceView): ServiceSummaryJson {
  const { namespace, name, ports } = view.service;
  return { namespace, name, ports, endpoints: view.endpoints.length, healthyEndpoints: view.healthy.length, modifyIndex: view.modifyIndex };
}

/** `ip:port` of every healthy endpoint that serves the named port. */
export function healthyAddresses(view: ServiceView, portName: string): string[] {
  const out: string[] = [];
  for (const e of view.healthy) {
    const port = portOf(view, e, portName);
    if (port !== undefined) out.push(joinHostPort(e.address, port));
  }
  return out;
}
