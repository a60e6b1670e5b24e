// The empty non-terminals of the reverse zones: every name above a served
// PTR name ("0.10.10.in-addr.arpa." above "5.0.10.10.in-addr.arpa."), which
// exists (NODATA) although it owns no record. A QNAME-minimising resolver
// (RFC 9156) walks down through them, and stops at an NXDOMAIN (RFC 8020).
// Rebuilt lazily, once per registry change that a query runs into.

import { reverseName } from '../../src/dns/reverse-name.js';
import type { Registry } from '../../src/registry/registry.js';

export class ReverseParents {
  private builtAt = -1;
  private names = new Set<string>();

  constructor(private readonly registry: Registry) {}

  /** True when some healthy endpoint's reverse name lies strictly below `qname`. */
  has(qname: string): boolean {
    if (this.builtAt !== this.registry.index) this.rebuild();
    return this.names.has(qname);
  }

  private rebuild(): void {
    const names = new Set<string>();
    for (const view of this.registry.services()) {
      for (const e of view.healthy) {
        const full = reverseName(e.address);
        for (let dot = full.indexOf('.'); dot >= 0 && dot < full.length - 1; dot = full.indexOf('.', dot + 1)) names.add(full.slice(dot + 1));
      }
    }
    this.names = names;
    this.builtAt = this.registry.index;
  }
}
