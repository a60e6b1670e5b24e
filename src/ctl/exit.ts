// Exit statuses scripts can rely on (documented in the README), and the
// error that carries one up to the dispatcher.

export const EXIT = {
  OK: 0,
  /** The node could not be reached, answered with an error, or something else failed. */
  ERROR: 1,
  /** Bad arguments (also when the node rejects a name as malformed). */
  USAGE: 2,
  /** The namespace, service, endpoint or DNS name does not exist (NXDOMAIN, or no records of the type). */
  NOT_FOUND: 3,
  /** Refused: missing or wrong token, registration disabled, or an endpoint another source owns. */
  REFUSED: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure with the message to print and the status to exit with. */
export class CtlError extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CtlError';
  }
}

export const usageError = (message: string): CtlError => new CtlError(EXIT.USAGE, message);
