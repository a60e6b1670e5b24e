// The shape of a parsed Corefile. Every token keeps where it came from so
// any setup error can say FILE:LINE.

export interface Token {
  text: string;
  file: string;
  line: number;
}

/** `name arg arg... [{ sub-directives }]`; `block` is null when no braces followed. */
export interface Directive {
  name: Token;
  args: Token[];
  block: Directive[] | null;
}

/** A server block key `[SCHEME://]ZONE[:PORT]`, parsed. */
export interface ServerKey {
  token: Token;
  scheme: 'dns';
  /** Lowercased, fully qualified zones ("cluster.local."); a CIDR key expands to several reverse zones. */
  zones: string[];
  /** Undefined when the key gave no port (the server default applies). */
  port: number | undefined;
}

export interface ServerBlock {
  keys: ServerKey[];
  directives: Directive[];
}

/** A Corefile problem, always reported as `FILE:LINE: reason`. */
export class CorefileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'CorefileError';
  }

  static at(tok: Token, reason: string): CorefileError {
    return new CorefileError(tok.file, tok.line, reason);
  }
}
