// Runs a system command for `setup` (podman, ip) and turns its failure into
// one readable line: the command and what it printed on stderr.

import { execFile } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    message: string,
    /** ENOENT when the program is not installed at all. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export function runCommand(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'not found on PATH' : String(stderr).trim() || err.message;
      reject(new CommandError(`${cmd} ${args.join(' ')}: ${why}`, typeof code === 'string' ? code : undefined));
    });
  });
}
