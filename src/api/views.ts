// Registry views → the API's JSON shapes.

import { joinHostPort } from '../util/hostport.js';
import type { Endpoint, ServicePort, ServiceView } from '../registry/types.js';

/** One endpoint as the API sends it (seed: ServiceEndpoint with NodeName, Address, Port, Healthy). */
export interface EndpointJson {
  name: string;
  nodeName: string;
  address: string;
  /** The service's first port on this endpoint; null when the service has no ports. */
  port: number | null;
  ports: ServicePort[];
  healthy: boolean;
  /**
   * The registry source this node has it from: `api`, `file:PATH`,
   * `podman:SOCKET`, `gossip:NODE`. The API always sends it; optional in the
   * type so endpoints a program builds itself (for pickEndpoint) need none.
   */
  source?: string;
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
    source,
  };
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
