// `loop` (CoreDNS plugin/loop): no arguments. Probes the first zone of the
// server block through our own listener and halts the process on a loop.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, noBlock, onlyDirective } from '../../src/corefile/args.js';
import { joinHostPort } from '../../src/util/hostport.js';
import { LoopHandler, type LoopState } from './handler.js';
import { Prober, probeName } from './probe.js';

export const plugin: PluginDef = {
  name: 'loop',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    argCount(d, 0);
    noBlock(d);
    const zone = c.zones[0] ?? '.';
    const port = Number(c.server.slice(c.server.lastIndexOf(':') + 1));
    // Like CoreDNS: the first `bind` address if there is one, else the local host.
    const bound = c.block.directives.find((x) => x.name.text === 'bind')?.args[0]?.text;
    const host = bound === undefined || bound === '0.0.0.0' ? '127.0.0.1' : bound === '::' ? '::1' : bound;
    const state: LoopState = {
      zone,
      qname: probeName(zone),
      address: joinHostPort(bound ?? '', port),
      seen: 0,
      off: false,
    };
    const fatal = (message: string): void => c.fatal(`plugin/loop: ${message}`);
    const prober = new Prober(state, host, port);
    c.onStartup(() => prober.start());
    c.onShutdown(() => prober.stop());
    c.handler((next) => new LoopHandler(state, fatal, next));
  },
};
