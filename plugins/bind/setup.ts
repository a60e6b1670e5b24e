// `bind ADDRESS...`: the addresses this server block listens on (CoreDNS bind).

import { isIP } from 'node:net';
import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, noBlock, pluginError } from '../../src/corefile/args.js';

export const plugin: PluginDef = {
  name: 'bind',
  setup(c: SetupContext): void {
    const addresses: string[] = [];
    for (const d of c.directives) {
      noBlock(d);
      for (const tok of argCount(d, 1, Infinity)) {
        if (isIP(tok.text) === 0) throw pluginError('bind', tok, `'${tok.text}' is not an IP address`);
        if (!addresses.includes(tok.text)) addresses.push(tok.text);
      }
    }
    c.setBind(addresses);
  },
};
