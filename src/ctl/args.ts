// Option parsing for the subcommands, in the style of the server's own flags:
// one or two dashes, `--name value` or `--name=value`, options anywhere among
// the arguments.

import { usageError } from './exit.js';

/** `flag`: takes no value; `value`: one; `list`: repeatable. */
export type OptionKind = 'flag' | 'value' | 'list';

export interface Parsed {
  args: string[];
  flags: Set<string>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], options: Readonly<Record<string, OptionKind>>): Parsed {
  const p: Parsed = { args: [], flags: new Set(), values: new Map(), lists: new Map() };
  let onlyArgs = false;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (onlyArgs || !raw.startsWith('-') || raw === '-') {
      p.args.push(raw);
      continue;
    }
    if (raw === '--') {
      onlyArgs = true;
      continue;
    }
    const eq = raw.indexOf('=');
    const name = (eq >= 0 ? raw.slice(0, eq) : raw).replace(/^--?/, '');
    const kind = name === 'h' ? options.help : options[name];
    if (kind === undefined) throw usageError(`unknown option '${raw}'`);
    if (kind === 'flag') {
      if (eq >= 0) throw usageError(`--${name} takes no value`);
      p.flags.add(name === 'h' ? 'help' : name);
      continue;
    }
    const v = eq >= 0 ? raw.slice(eq + 1) : argv[++i];
    if (v === undefined || v === '') throw usageError(`--${name} needs a value`);
    if (kind === 'value') p.values.set(name, v);
    else p.lists.set(name, [...(p.lists.get(name) ?? []), v]);
  }
  return p;
}

/** `NS/SVC` → its two parts (what the API validates further). */
export function serviceArg(text: string | undefined, what = 'NS/SVC'): { namespace: string; service: string } {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(text ?? '');
  if (!m) throw usageError(text === undefined ? `missing ${what}` : `'${text}' is not ${what} (namespace/service, e.g. shop/web)`);
  return { namespace: m[1]!, service: m[2]! };
}
