// Why one exchange with an upstream failed.

export class UpstreamError extends Error {
  constructor(
    message: string,
    /** The TCP connection came from the pool and the upstream had closed it: retry on a new one. */
    readonly staleConnection = false,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}
