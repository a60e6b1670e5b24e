// The operator subcommands' names, apart from their code: cli.ts checks
// argv against this list and loads the subcommands only when one is asked for.

export const CTL_COMMANDS: ReadonlySet<string> = new Set(['members', 'services', 'endpoints', 'lookup', 'register', 'deregister', 'keygen']);
