// Small helpers for plugin setup code, so every plugin validates its
// directive the same way and every error says FILE:LINE and which plugin.

import { parseServerKey } from './keys.js';
import { CorefileError, type Directive, type Token } from './types.js';

/**
 * `PLUGIN: reason` at `at`: the wording of every setup error, as CoreDNS's
 * plugin.Error, so the messages of all plugins read alike.
 */
export function pluginError(plugin: string, at: Token, reason: string): CorefileError {
  return CorefileError.at(at, `${plugin}: ${reason}`);
}

/** The block's one directive of a plugin that allows one; a second is refused where it is written. */
export function onlyDirective(directives: readonly Directive[]): Directive {
  const [first, second] = directives;
  if (second) throw pluginError(second.name.text, second.name, `only one ${second.name.text} directive per server block`);
  return first!;
}

/** The directive's arguments, or an error unless there are `min`..`max` of them. */
export function argCount(d: Directive, min: number, max = min): Token[] {
  const n = d.args.length;
  if (n >= min && n <= max) return d.args;
  throw pluginError(d.name.text, d.name, `expected ${expectation(min, max)}, got ${n}`);
}

function expectation(min: number, max: number): string {
  const plural = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  if (max === 0) return 'no arguments';
  if (min === max) return `exactly ${plural(min)}`;
  if (max === Infinity) return `at least ${plural(min)}`;
  if (min === 0) return `at most ${plural(max)}`;
  return `${min} to ${plural(max)}`;
}

/** Normalised zones (lowercase, fully qualified, CIDRs as reverse zones) from a directive's arguments. */
export function zoneArgs(d: Directive): string[] {
  return d.args.flatMap((t) => parseServerKey(t).zones);
}

/** The lines of the directive's `{ }` block; none when it has no block. */
export function subdirectives(d: Directive): Directive[] {
  return d.block ?? [];
}

/** For directives that take no `{ }` block. */
export function noBlock(d: Directive): void {
  if (d.block) throw pluginError(d.name.text, d.name, 'does not take a block');
}

/** The error for a sub-directive the plugin does not know. */
export function unknownSubdirective(parent: Directive, sub: Directive): CorefileError {
  return pluginError(parent.name.text, sub.name, `unknown property '${sub.name.text}'`);
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)/;

/** A Go-style duration (`300ms`, `5s`, `1m30s`, `1.5h`, `0`) in milliseconds; negative ones are rejected. */
export function parseDuration(tok: Token, name?: string): number {
  let rest = tok.text;
  let ms = 0;
  if (rest === '0') return 0;
  if (rest === '') return badDuration(tok, name);
  while (rest !== '') {
    const m = DURATION.exec(rest);
    if (!m) return badDuration(tok, name);
    const unit = /[a-zµμ]+$/.exec(m[0])![0];
    const perUnit = UNIT_MS[unit];
    if (perUnit === undefined) return badDuration(tok, name);
    ms += Number(m[0].slice(0, -unit.length)) * perUnit;
    rest = rest.slice(m[0].length);
  }
  return ms;
}

function badDuration(tok: Token, name: string | undefined): never {
  throw CorefileError.at(tok, `${name ? `${name}: ` : ''}invalid duration '${tok.text}' (expected e.g. 300ms, 5s, 1m30s, 2h)`);
}

/** A decimal integer in [min, max]. */
export function parseUint(tok: Token, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(tok.text);
  if (!/^\d+$/.test(tok.text) || n < min || n > max) {
    throw CorefileError.at(tok, `${name}: expected an integer from ${min} to ${max}, got '${tok.text}'`);
  }
  return n;
}

/** One argument that must be one of `choices` (`plugin: name` prefixes the error). */
export function parseChoice<T extends string>(d: Directive, name: string, choices: readonly T[]): T {
  const tok = argCount(d, 1)[0]!;
  if (!(choices as readonly string[]).includes(tok.text)) throw CorefileError.at(tok, `${name}: '${tok.text}' is not one of ${choices.join(', ')}`);
  return tok.text as T;
}
