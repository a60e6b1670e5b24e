// Rule syntax, as CoreDNS plugin/rewrite parses it (rewrite.go newRule,
// name.go, ttl.go): `[continue|stop] FIELD ...`, where the block form
// `rewrite [continue|stop] { ... }` reads as one line.

import { pluginError } from '../../src/corefile/args.js';
import type { Directive, Token } from '../../src/corefile/types.js';
import { Class, parseTypeName } from '../../src/dns/constants.js';
import { FieldRule, NameRule, TtlRule, type Mode, type ResponseRule, type Rule } from './rules.js';
import { MATCH_TYPES, MAX_REGEX_LEN, normalizeName, regexRewriter, suffixRewriter, type MatchType } from './strings.js';

const UNSUPPORTED = new Set(['edns0', 'cname', 'rcode']);
const CLASSES: Record<string, number> = { IN: Class.IN, CH: Class.CH, HS: 4 };

export function parseRule(d: Directive): Rule {
  let toks = [...d.args];
  if (toks.length < 2 && d.block) for (const line of d.block) toks.push(line.name, ...line.args);
  const fail = (reason: string, at: Token = d.name): never => {
    throw pluginError('rewrite', at, reason);
  };
  let mode: Mode = 'stop';
  const first = toks[0]?.text.toLowerCase();
  if (first === 'stop' || first === 'continue') {
    mode = first;
    toks = toks.slice(1);
    if (toks.length === 0) fail(`${mode} rule must begin with a rule type`);
  }
  const field = toks[0];
  if (field === undefined) return fail('no rule type specified');
  const args = toks.slice(1);
  const kind = field.text.toLowerCase();
  switch (kind) {
    case 'name':
      return nameRule(mode, args, field, fail);
    case 'ttl':
      return ttlRule(mode, args, field, fail);
    case 'type':
    case 'class': {
      if (args.length !== 2) return fail(`${kind} rules must have exactly two arguments`, field);
      const parse = kind === 'type' ? (t: Token) => parseTypeName(t.text) : (t: Token) => CLASSES[t.text.toUpperCase()];
      const [from, to] = args.map((t) => parse(t) ?? fail(`invalid ${kind} '${t.text}'`, t));
      return new FieldRule(mode, kind === 'type' ? 'qtype' : 'qclass', from!, to!);
    }
    case 'answer':
      return fail('response rewrites must begin with a name rule', field);
    default:
      return fail(UNSUPPORTED.has(kind) ? `'${kind}' rules are not supported` : `invalid rule type '${field.text}'`, field);
  }
}

type Fail = (reason: string, at?: Token) => never;

function nameRule(mode: Mode, args: Token[], at: Token, fail: Fail): Rule {
  if (args.length < 2) return fail('too few arguments for a name rule', at);
  const explicit = args.length >= 3;
  const type = (explicit ? args[0]!.text.toLowerCase() : 'exact') as MatchType;
  if (!MATCH_TYPES.includes(type)) {
    return fail(`name rule supports only exact, prefix, suffix, substring, and regex name matching, received: ${args[0]!.text}`, args[0]);
  }
  const [fromTok, toTok] = explicit ? [args[1]!, args[2]!] : [args[0]!, args[1]!];
  const to = normalizeName(toTok.text);
  const { auto, rules } = parseAnswers(args.slice(3), fail);
  if (type === 'regex') return new NameRule(mode, type, compile(fromTok, toTok.text, fail), to, auto, rules);
  const from = normalizeName(fromTok.text);
  // exact always maps the answer back; suffix maps it back by swapping the suffixes.
  if (type === 'exact') return new NameRule(mode, type, from, to, true, rules);
  if (type === 'suffix' && auto) {
    const back = suffixRewriter(to, from);
    return new NameRule(mode, type, from, to, false, [{ kind: 'name', rewrite: back }, { kind: 'value', rewrite: back }, ...rules]);
  }
  return new NameRule(mode, type, from, to, auto, rules);
}

/** `answer auto | answer name FROM TO | answer value FROM TO`, repeatable; `answer` optional after the first. */
function parseAnswers(args: Token[], fail: Fail): { auto: boolean; rules: ResponseRule[] } {
  let auto = false;
  let named = false;
  const rules: ResponseRule[] = [];
  for (let i = 0; i < args.length;) {
    if (args[i]!.text === 'answer') i++;
    else if (i === 0) fail(`unexpected '${args[i]!.text}' after a name rule; expected 'answer'`, args[i]);
    const what = args[i++];
    if (what === undefined) return fail('answer rule needs auto, name or value', args[i - 2]);
    if (what.text === 'auto') {
      auto = true;
      continue;
    }
    if (what.text !== 'name' && what.text !== 'value') fail(`invalid type '${what.text}' for an answer rule`, what);
    const from = args[i];
    const to = args[i + 1];
    if (from === undefined || to === undefined) return fail(`${what.text} answer rule: 2 arguments required`, what);
    i += 2;
    const kind = what.text;
    if (kind === 'name') named = true;
    rules.push({ kind, rewrite: regexRewriter(compile(from, to.text, fail), normalizeName(to.text)) });
  }
  if (auto && named) fail('auto name answer rule cannot be combined with explicit name answer rules', args[0]);
  return { auto, rules };
}

function ttlRule(mode: Mode, args: Token[], at: Token, fail: Fail): Rule {
  if (args.length < 2 || args.length > 3) return fail(`a ttl rule takes [TYPE] NAME TTL, got ${args.length} arguments`, at);
  const type = (args.length === 3 ? args[0]!.text.toLowerCase() : 'exact') as MatchType;
  if (!MATCH_TYPES.includes(type)) return fail('ttl rule supports only exact, prefix, suffix, substring, and regex name matching', args[0]);
  const nameTok = args[args.length - 2]!;
  const ttlTok = args[args.length - 1]!;
  const range = parseTtlRange(ttlTok.text) ?? fail(`invalid TTL '${ttlTok.text}' for a ttl rule`, ttlTok);
  const from = type === 'regex' ? compile(nameTok, '', fail) : normalizeName(nameTok.text);
  return new TtlRule(mode, type, from, range[0], range[1]);
}

/** `N`, `MIN-MAX`, `-MAX` or `MIN-`. */
function parseTtlRange(s: string): [number, number] | undefined {
  const num = (t: string): number | undefined => (/^\d{1,10}$/.test(t) && Number(t) <= 0xffffffff ? Number(t) : undefined);
  const parts = s.split('-');
  if (parts.length === 1) {
    const n = num(s);
    return n === undefined ? undefined : [n, n];
  }
  if (parts.length !== 2 || (parts[0] === '' && parts[1] === '')) return undefined;
  const min = parts[0] === '' ? 0 : num(parts[0]!);
  const max = parts[1] === '' ? 2147483647 : num(parts[1]!);
  return min === undefined || max === undefined || min > max ? undefined : [min, max];
}

/** A regex that is not too long, compiles, and has every `{N}` group that `replacement` uses. */
function compile(tok: Token, replacement: string, fail: Fail): RegExp {
  if (tok.text.length > MAX_REGEX_LEN) fail(`regex pattern too long: ${tok.text.length} > ${MAX_REGEX_LEN}`, tok);
  let re: RegExp;
  try {
    re = new RegExp(tok.text);
  } catch (e) {
    return fail(`invalid regex pattern '${tok.text}': ${(e as Error).message}`, tok);
  }
  const groups = new RegExp(`${tok.text}|`).exec('')!.length - 1;
  for (const m of replacement.matchAll(/\{(\d+)\}/g)) {
    if (Number(m[1]) > groups) fail(`the rewrite regex '${tok.text}' has ${groups} groups, but '${replacement}' uses {${m[1]}}`, tok);
  }
  return re;
}
