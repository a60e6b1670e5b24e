// What every subcommand module exports: its usage, its options and run().

import type { OptionKind, Parsed } from './args.js';
import type { ExitCode } from './exit.js';
import type { Output } from './table.js';

export interface Command {
  name: string;
  /** `podswarm-dns NAME ...` synopsis. */
  synopsis: string;
  /** What it does and its own options, for `--help`. */
  help: string;
  options: Readonly<Record<string, OptionKind>>;
  /** Positional arguments accepted. */
  args: { min: number; max: number };
  run(p: Parsed, out: Output): Promise<ExitCode>;
}

/** Options every subcommand takes; their lines in every --help. */
export const COMMON_OPTIONS = { json: 'flag', help: 'flag' } as const;
export const COMMON_HELP = `  --json              machine-readable output (JSON on stdout)
  -h, --help          this help`;
export const API_HELP = `  --api URL           the node's API (default: $PODSWARM_API_URL, else http://127.0.0.1:8080)`;
export const TOKEN_HELP = `  --token-file FILE   the bearer token: the file the api plugin's token_file names`;
