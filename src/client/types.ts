// What the discovery API returns, as the client library sees it.

export interface ServicePort {
  name: string;
  port: number;
  protocol: 'tcp' | 'udp';
}

/** One endpoint of a service (seed: ServiceEndpoint with NodeName, Address, Port, Healthy). */
export interface ServiceEndpoint {
  name: string;
  nodeName: string;
  address: string;
  /** The service's first port on this endpoint; null when the service has no ports. */
  port: number | null;
  ports: ServicePort[];
  healthy: boolean;
}

export interface ServiceSummary {
  namespace: string;
  name: string;
  ports: ServicePort[];
  endpoints: number;
  healthyEndpoints: number;
  modifyIndex: number;
}

/** An error answer from the API (status and its `{error}` message), or a transport failure (status 0). */
export class DiscoveryError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The API's X-Podswarm-Index, when it sent one (a 404 from a blocking query does). */
    readonly index?: number,
  ) {
    super(message);
    this.name = 'DiscoveryError';
  }
}
