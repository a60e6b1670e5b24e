// `log [NAMES...] [FORMAT] { class success|denial|error|all... }` (CoreDNS
// plugin/log/setup.go). Every `log` line in a block adds rules; the first
// rule whose name covers the query decides.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { noBlock, pluginError, subdirectives, unknownSubdirective } from '../../src/corefile/args.js';
import { parseServerKey } from '../../src/corefile/keys.js';
import type { Directive } from '../../src/corefile/types.js';
import type { ResponseClass } from './classify.js';
import { COMBINED_FORMAT, COMMON_FORMAT, DEFAULT_FORMAT, compileFormat } from './format.js';
import { LogHandler, type Rule } from './handler.js';

export const plugin: PluginDef = {
  name: 'log',
  setup(c: SetupContext): void {
    const rules = c.directives.flatMap(parseDirective);
    c.handler((next) => new LogHandler(rules, next, c.app.log));
  },
};

export function parseDirective(d: Directive): Rule[] {
  const args = [...d.args];
  // A last argument with a `{` is the format. CoreDNS takes a lone argument as a
  // name even then (so `log {combined}` never logs); here it is the format.
  let source = DEFAULT_FORMAT;
  if (args.length > 0 && args[args.length - 1]!.text.includes('{')) {
    source = args.pop()!.text.replaceAll('{common}', COMMON_FORMAT).replaceAll('{combined}', COMBINED_FORMAT);
  }
  const format = compileFormat(source);
  const classes = parseClasses(d);
  // Names are normalised like server block keys (lowercase, FQDN, a CIDR as its reverse zones).
  const scopes = args.length > 0 ? args.flatMap((t) => parseServerKey(t).zones) : ['.'];
  return scopes.map((scope) => ({ scope, format, classes }));
}

const CLASSES = new Set(['success', 'denial', 'error', 'all']);

/** The `class` lines of the block, OR-ed; none (or `all`) means log everything. */
function parseClasses(d: Directive): ReadonlySet<ResponseClass> | null {
  const classes = new Set<string>();
  for (const sub of subdirectives(d)) {
    if (sub.name.text !== 'class') throw unknownSubdirective(d, sub);
    noBlock(sub);
    if (sub.args.length === 0) throw pluginError('log', sub.name, 'class needs at least one of success, denial, error, all');
    for (const a of sub.args) {
      if (!CLASSES.has(a.text)) throw pluginError('log', a, `invalid class '${a.text}' (expected success, denial, error or all)`);
      classes.add(a.text);
    }
  }
  if (classes.size === 0 || classes.has('all')) return null;
  return classes as Set<ResponseClass>;
}
