// `rewrite [continue|stop] FIELD ...` (CoreDNS plugin/rewrite): every
// rewrite line of the block is one rule, applied in line order.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { RewriteHandler } from './handler.js';
import { parseRule } from './parse.js';

export const plugin: PluginDef = {
  name: 'rewrite',
  setup(c: SetupContext): void {
    const rules = c.directives.map(parseRule);
    const log = c.app.pluginLog('rewrite');
    c.handler((next) => new RewriteHandler(rules, log, next));
  },
};
