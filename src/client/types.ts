// What the discovery API returns, as the client library sees it.

// The wire shapes are the API's own, so client and server cannot drift apart.
export type { ServicePort } from '../registry/types.js';
export type { EndpointJson as ServiceEndpoint, ServiceSummaryJson as ServiceSummary } from '../api/views.js';
export type { MemberJson as Member, MembersJson as Members, VersionRange } from '../api/members.js';

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
