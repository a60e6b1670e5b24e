// `errors { stacktrace; consolidate DURATION REGEXP [LEVEL] [show_first] }`
// (CoreDNS plugin/errors/setup.go); see README.md.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, noBlock, onlyDirective, parseDuration, pluginError, subdirectives, unknownSubdirective } from '../../src/corefile/args.js';
import type { Directive } from '../../src/corefile/types.js';
import { Consolidator, type Level, type PatternSpec } from './consolidate.js';
import { ErrorsHandler } from './handler.js';

const MAX_REGEXP = 10_000;
const LEVELS = new Set<string>(['warning', 'error', 'info', 'debug']);

export const plugin: PluginDef = {
  name: 'errors',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    argCount(d, 0);
    let stacktrace = false;
    const patterns: PatternSpec[] = [];
    for (const sub of subdirectives(d)) {
      noBlock(sub);
      if (sub.name.text === 'stacktrace') {
        argCount(sub, 0);
        stacktrace = true;
      } else if (sub.name.text === 'consolidate') {
        patterns.push(parseConsolidate(sub));
      } else {
        throw unknownSubdirective(d, sub);
      }
    }
    const out = new Consolidator(patterns, c.app.pluginLog('errors'));
    c.onShutdown(() => out.stop());
    c.handler((next) => new ErrorsHandler(out, stacktrace, next));
  },
};

function parseConsolidate(sub: Directive): PatternSpec {
  const [dur, re, ...rest] = argCount(sub, 2, 4);
  const periodMs = parseDuration(dur!, 'errors: consolidate');
  if (periodMs <= 0) throw pluginError('errors', dur!, 'consolidate duration must be positive');
  if (re!.text.length > MAX_REGEXP) throw pluginError('errors', re!, `consolidate regexp is longer than ${MAX_REGEXP} characters`);
  let regexp: RegExp;
  try {
    regexp = new RegExp(re!.text);
  } catch (e) {
    throw pluginError('errors', re!, `invalid consolidate regexp: ${(e as Error).message}`);
  }
  let level: Level = 'error';
  let showFirst = false;
  for (const [i, tok] of rest.entries()) {
    if (tok.text === 'show_first' && i === rest.length - 1) showFirst = true;
    else if (i === 0 && LEVELS.has(tok.text)) level = tok.text as Level;
    else throw pluginError('errors', tok, `expected a level (warning, error, info, debug) or show_first, got '${tok.text}'`);
  }
  return { periodMs, periodText: dur!.text, regexp, level, showFirst };
}
