// `podswarm-dns keygen`: a key for the gossip plugin's `encrypt`, as
// `serf keygen` makes one: 32 random bytes (AES-256), base64.

import { randomBytes } from 'node:crypto';
import { COMMON_HELP, COMMON_OPTIONS, type Command } from './command.js';
import { EXIT } from './exit.js';
import { printJson } from './table.js';

export const keygen: Command = {
  name: 'keygen',
  synopsis: 'podswarm-dns keygen [--json]',
  help: `Prints a new gossip encryption key: 32 random bytes in base64, for
\`gossip { encrypt KEY }\` on every node (and serf's -encrypt). Needs no node.
${COMMON_HELP}`,
  options: COMMON_OPTIONS,
  args: { min: 0, max: 0 },
  async run(_p, out) {
    const key = randomBytes(32).toString('base64');
    if (out.json) printJson(out, { key });
    else out.line(key);
    return EXIT.OK;
  },
};
