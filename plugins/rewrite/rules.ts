// Request rules: each may change the question and returns the response
// rules to apply on the way back, or null when it does not match.

import type { Request } from '../../src/dns/request.js';
import { matches, substitute, type MatchType, type StringRewriter, remapRewriter } from './strings.js';

export type Mode = 'stop' | 'continue';

export type ResponseRule = { kind: 'name'; rewrite: StringRewriter } | { kind: 'value'; rewrite: StringRewriter } | { kind: 'ttl'; min: number; max: number };

export interface Rule {
  readonly mode: Mode;
  apply(req: Request): ResponseRule[] | null;
}

export class NameRule implements Rule {
  constructor(
    readonly mode: Mode,
    private readonly type: MatchType,
    private readonly from: string | RegExp,
    private readonly to: string,
    /** answer auto: map the new question name back to the client's in names and values. */
    private readonly auto: boolean,
    private readonly answers: ResponseRule[],
  ) {}

  apply(req: Request): ResponseRule[] | null {
    const name = req.qname;
    const next = this.rewrite(name);
    if (next === undefined) return null;
    req.qname = next;
    if (!this.auto) return this.answers;
    const back = remapRewriter(next, name);
    return [{ kind: 'name', rewrite: back }, { kind: 'value', rewrite: back }, ...this.answers];
  }

  private rewrite(name: string): string | undefined {
    const from = this.from;
    if (from instanceof RegExp) {
      const m = from.exec(name);
      return m ? substitute(this.to, m) : undefined;
    }
    if (!matches(this.type, from, name)) return undefined;
    switch (this.type) {
      case 'prefix':
        return this.to + name.slice(from.length);
      case 'suffix':
        return name.slice(0, name.length - from.length) + this.to;
      case 'substring':
        return name.replaceAll(from, this.to);
      default:
        return this.to;
    }
  }
}

export class TtlRule implements Rule {
  constructor(
    readonly mode: Mode,
    private readonly type: MatchType,
    private readonly from: string | RegExp,
    private readonly min: number,
    private readonly max: number,
  ) {}

  apply(req: Request): ResponseRule[] | null {
    return matches(this.type, this.from, req.qname) ? [{ kind: 'ttl', min: this.min, max: this.max }] : null;
  }
}

/** `type FROM TO` and `class FROM TO`: the question's type or class. */
export class FieldRule implements Rule {
  constructor(
    readonly mode: Mode,
    private readonly field: 'qtype' | 'qclass',
    private readonly from: number,
    private readonly to: number,
  ) {}

  apply(req: Request): ResponseRule[] | null {
    if (req[this.field] !== this.from) return null;
    req[this.field] = this.to;
    return [];
  }
}
