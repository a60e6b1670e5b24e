// `{$VAR}` and `{%VAR%}` substitution inside a token (CoreDNS replaceEnvVars).

export type Env = Record<string, string | undefined>;

const REF = /\{\$([^}]+)\}|\{%([^}]+?)%\}/g;

/** Replaces every reference in one pass; an unset variable becomes "". Values are not re-expanded. */
export function expandEnv(text: string, env: Env): string {
  if (!text.includes('{')) return text;
  return text.replace(REF, (_m, dollar: string | undefined, percent: string | undefined) => env[dollar ?? percent ?? ''] ?? '');
}
