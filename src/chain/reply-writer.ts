// Which handler wrote the reply (the `plugin` label of
// coredns_dns_responses_total). In a chain with a handler that asks
// (prometheus), each handler after it gets its writer wrapped in one that
// carries its name. A reply passes its writer's wrapper first, then those of
// the plugins it travels back through, so the first name set during a write
// is the writer's. Writes are synchronous, so one module-wide slot holds the
// name for the length of the write call.

import type { Handler, ResponseWriter, Result } from './plugin.js';
import type { Request } from '../dns/request.js';

let writing: string | undefined;

/** The handler whose reply is being written: read it inside ResponseWriter.write. Undefined when unnamed. */
export function replyWriterName(): string | undefined {
  return writing;
}

class NamedWriter implements ResponseWriter {
  constructor(
    private readonly w: ResponseWriter,
    private readonly name: string,
  ) {}

  get written(): boolean {
    return this.w.written;
  }

  write(msg: Buffer): void {
    // Set already: an inner handler wrote, and the plugin that owns this writer only passes it on (cache, rewrite).
    if (writing !== undefined) return this.w.write(msg);
    writing = this.name;
    try {
      this.w.write(msg);
    } finally {
      writing = undefined;
    }
  }
}

/** `h` with its writes named after it. */
export class NamedHandler implements Handler {
  readonly name: string;

  constructor(private readonly h: Handler) {
    this.name = h.name;
  }

  serveDNS(req: Request, w: ResponseWriter): Result {
    return this.h.serveDNS(req, new NamedWriter(w, this.name));
  }
}
