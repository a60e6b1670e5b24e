// Name matching and rewriting shared by the rule kinds: the five match
// types, `{N}` regex group substitution, and the rewriters answer rules use.

export type MatchType = 'exact' | 'prefix' | 'suffix' | 'substring' | 'regex';
export const MATCH_TYPES: readonly string[] = ['exact', 'prefix', 'suffix', 'substring', 'regex'];

/** Longest regex CoreDNS accepts. */
export const MAX_REGEX_LEN = 10000;

/** Lowercased, fully qualified (CoreDNS plugin.Name.Normalize). */
export function normalizeName(s: string): string {
  const lower = s.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** Whether `name` matches `from` under `type`. */
export function matches(type: MatchType, from: string | RegExp, name: string): boolean {
  if (from instanceof RegExp) return from.test(name);
  switch (type) {
    case 'prefix':
      return name.startsWith(from);
    case 'suffix':
      return name.endsWith(from);
    case 'substring':
      return name.includes(from);
    default:
      return name === from;
  }
}

/** `replacement` with `{0}`, `{1}`... replaced by the groups of `m`. */
export function substitute(replacement: string, m: RegExpExecArray): string {
  return replacement.replace(/\{(\d+)\}/g, (whole, n: string) => m[Number(n)] ?? whole);
}

/** Rewrites a name (lowercased FQDN); returns it unchanged when the rule does not apply. */
export type StringRewriter = (name: string) => string;

/** Regex rewriter for `answer name|value FROM TO`. */
export function regexRewriter(pattern: RegExp, replacement: string): StringRewriter {
  return (name) => {
    const m = pattern.exec(name);
    return m ? substitute(replacement, m) : name;
  };
}

/** `from` itself, or any name ending in `.from`, gets `from` replaced by `to` (answer auto). */
export function remapRewriter(from: string, to: string): StringRewriter {
  return (name) => {
    if (name === from) return to;
    const i = name.length - from.length;
    return i > 0 && name[i - 1] === '.' && name.endsWith(from) ? name.slice(0, i) + to : name;
  };
}

export function suffixRewriter(suffix: string, replacement: string): StringRewriter {
  return (name) => (name.endsWith(suffix) ? name.slice(0, name.length - suffix.length) + replacement : name);
}
