// The operator subcommands (`podswarm-dns members`, `lookup`, ...): parse,
// run, and turn every failure into a message and a documented exit status.

import { parseArgs } from './args.js';
import type { Command } from './command.js';
import { CtlError, EXIT, type ExitCode } from './exit.js';
import { keygen } from './keygen.js';
import { lookup } from './lookup.js';
import { members } from './members.js';
import { deregister, register } from './register.js';
import { endpoints, services } from './services.js';
import { stdio } from './table.js';

const COMMANDS: Command[] = [members, services, endpoints, lookup, register, deregister, keygen];

/** Runs subcommand `name` (one of CTL_COMMANDS) with its arguments; resolves to the exit status. */
export async function runCtl(name: string, argv: readonly string[]): Promise<ExitCode> {
  const cmd = COMMANDS.find((c) => c.name === name)!;
  const fail = (e: CtlError): ExitCode => {
    process.stderr.write(`podswarm-dns ${name}: ${e.message}\n`);
    if (e.code === EXIT.USAGE) process.stderr.write(`Usage: ${cmd.synopsis}\n(podswarm-dns ${name} --help for more)\n`);
    return e.code;
  };
  try {
    const p = parseArgs(argv, cmd.options);
    if (p.flags.has('help')) {
      process.stdout.write(`Usage: ${cmd.synopsis}\n${cmd.help}\n${EXIT_HELP}\n`);
      return EXIT.OK;
    }
    if (p.args.length < cmd.args.min) throw new CtlError(EXIT.USAGE, 'missing arguments');
    if (p.args.length > cmd.args.max) throw new CtlError(EXIT.USAGE, `unexpected argument '${p.args[cmd.args.max]}'`);
    return await cmd.run(p, stdio(p.flags.has('json')));
  } catch (e) {
    if (e instanceof CtlError) return fail(e);
    return fail(new CtlError(EXIT.ERROR, (e as Error).message));
  }
}

const EXIT_HELP =
  'Exit status: 0 ok, 1 error (node unreachable, failure), 2 usage, 3 not found, 4 refused (token, registration disabled, not owned by the API).';
