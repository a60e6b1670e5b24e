// `reload [INTERVAL] [JITTER]` (CoreDNS plugin/reload/setup.go): checks the
// Corefile and the files it imports every INTERVAL ± JITTER/2 and reloads
// when their SHA512 changes. A bad new Corefile is refused by the lifecycle
// (logged with FILE:LINE, counted) and the running config keeps serving.

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, noBlock, onlyDirective, parseDuration, pluginError } from '../../src/corefile/args.js';
import { configFiles, Watcher } from './watcher.js';

const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_JITTER_MS = 15_000;
const MIN_INTERVAL_MS = 2_000;
const MIN_JITTER_MS = 1_000;

export const plugin: PluginDef = {
  name: 'reload',
  scope: 'control',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    noBlock(d);
    const [intervalTok, jitterTok] = argCount(d, 0, 2);
    const interval = intervalTok ? parseDuration(intervalTok, 'reload') : DEFAULT_INTERVAL_MS;
    if (interval < MIN_INTERVAL_MS) throw pluginError('reload', intervalTok!, `interval must be at least ${MIN_INTERVAL_MS / 1000}s`);
    let jitter = jitterTok ? parseDuration(jitterTok, 'reload') : DEFAULT_JITTER_MS;
    if (jitter !== 0 && jitter < MIN_JITTER_MS) throw pluginError('reload', jitterTok!, `jitter must be 0 or at least ${MIN_JITTER_MS / 1000}s`);
    jitter = Math.min(jitter, interval / 2);
    // Spreads the checks of many nodes that share one Corefile (fixed per config, as in CoreDNS).
    const periodMs = interval + (jitter > 0 ? Math.random() * jitter - jitter / 2 : 0);
    const app = c.app;
    // Hashed now, beside the parse: a change made after this point is a change.
    const watcher = new Watcher(configFiles(app.options.corefile, c.block), periodMs, app.pluginLog('reload'), () => c.reload());
    c.onStartup(() => watcher.start());
    c.onShutdown(() => watcher.stop());
  },
};
