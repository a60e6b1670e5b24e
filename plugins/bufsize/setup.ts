// `bufsize [SIZE]` (CoreDNS plugin/bufsize): the UDP payload size the block
// advertises and truncates UDP replies at, so replies never fragment.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, noBlock, onlyDirective, parseUint } from '../../src/corefile/args.js';
import { OUR_UDP_SIZE } from '../../src/dns/edns.js';
import { BufsizeHandler } from './handler.js';

export const plugin: PluginDef = {
  name: 'bufsize',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    noBlock(d);
    const [tok] = argCount(d, 0, 1);
    const size = tok ? parseUint(tok, 'bufsize', 512, 4096) : OUR_UDP_SIZE;
    c.handler((next) => new BufsizeHandler(size, next));
  },
};
