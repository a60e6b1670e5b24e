// `acl [ZONES...] { allow|block|filter|drop [type QTYPE...] [net SOURCE...] }`
// (CoreDNS plugin/acl/setup.go). Each acl line is one rule, checked in order.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { noBlock, pluginError, subdirectives, zoneArgs } from '../../src/corefile/args.js';
import { parseTypeName } from '../../src/dns/constants.js';
import type { Directive, Token } from '../../src/corefile/types.js';
import { AclHandler } from './handler.js';
import { AclMetrics } from './metrics.js';
import { NetSet } from './net.js';
import type { Action, Policy, Rule } from './policy.js';

const ACTIONS = new Set<string>(['allow', 'block', 'filter', 'drop']);

export const plugin: PluginDef = {
  name: 'acl',
  setup(c: SetupContext): void {
    const rules: Rule[] = c.directives.map((d) => ({
      zones: d.args.length > 0 ? zoneArgs(d) : c.zones,
      policies: subdirectives(d).map(parsePolicy),
    }));
    const metrics = new AclMetrics(c.app);
    c.handler((next) => new AclHandler(rules, metrics, next));
  },
};

function parsePolicy(sub: Directive): Policy {
  const action = sub.name.text.toLowerCase();
  if (!ACTIONS.has(action)) throw pluginError('acl', sub.name, `unexpected token '${sub.name.text}'; expect 'allow', 'block', 'filter' or 'drop'`);
  noBlock(sub);
  let qtypes: Set<number> | undefined;
  let anyType = false;
  let nets: NetSet | undefined;
  const args = sub.args;
  for (let i = 0; i < args.length;) {
    const section = args[i]!;
    const kind = section.text.toLowerCase();
    if (kind !== 'type' && kind !== 'net') throw pluginError('acl', section, `unexpected token '${section.text}'; expect 'type' or 'net'`);
    const values: Token[] = [];
    for (i++; i < args.length && !isSection(args[i]!); i++) values.push(args[i]!);
    if (values.length === 0) throw pluginError('acl', section, `no value given in '${kind}' section`);
    if (kind === 'net') {
      nets ??= new NetSet();
      for (const v of values) nets.add(v);
      continue;
    }
    qtypes ??= new Set();
    for (const v of values) {
      if (v.text === '*') anyType = true;
      else qtypes.add(parseType(v));
    }
  }
  return { action: action as Action, qtypes: anyType ? null : (qtypes ?? null), nets: nets ?? null };
}

function isSection(tok: Token): boolean {
  const t = tok.text.toLowerCase();
  return t === 'type' || t === 'net';
}

function parseType(tok: Token): number {
  const t = parseTypeName(tok.text);
  if (t === undefined) throw pluginError('acl', tok, `unexpected token '${tok.text}'; expect a legal QTYPE (e.g. A, AAAA, TYPE65)`);
  return t;
}
