// `hosts [FILE [ZONES...]] { INLINE...; ttl N; no_reverse; reload DUR;
// fallthrough [ZONES...]; fallthrough_unsupported }` (CoreDNS plugin/hosts/setup.go).

import { dirname, resolve } from 'node:path';
import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { parseFallthrough } from '../../src/chain/fallthrough.js';
import { argCount, noBlock, onlyDirective, parseDuration, parseUint, pluginError, subdirectives, zoneArgs } from '../../src/corefile/args.js';
import type { Directive } from '../../src/corefile/types.js';
import { HostsHandler, type HostsOptions } from './handler.js';
import { emptyHosts, parseHosts } from './hostsfile.js';
import { HostsSource } from './source.js';

export const DEFAULT_FILE = '/etc/hosts';
export const DEFAULT_TTL = 3600;
export const DEFAULT_RELOAD_MS = 5000;

export const plugin: PluginDef = {
  name: 'hosts',
  setup(c: SetupContext): void {
    const d = onlyDirective(c.directives);
    const [file, ...zoneToks] = d.args;
    const path = file === undefined ? DEFAULT_FILE : resolve(dirname(file.file), file.text);
    const zones = zoneToks.length > 0 ? zoneArgs({ ...d, args: zoneToks }) : c.zones;
    const opts: HostsOptions = { zones, ttl: DEFAULT_TTL, fallthrough: null, fallthroughUnsupported: false };
    let reverse = true;
    let reloadMs = DEFAULT_RELOAD_MS;
    const inline: string[] = [];
    for (const sub of subdirectives(d)) {
      switch (sub.name.text) {
        case 'ttl':
          opts.ttl = parseUint(argCount(sub, 1)[0]!, 'hosts: ttl', 1, 65535);
          break;
        case 'no_reverse':
          argCount(sub, 0);
          reverse = false;
          break;
        case 'reload':
          reloadMs = parseDuration(argCount(sub, 1)[0]!, 'hosts: reload');
          break;
        case 'fallthrough':
          opts.fallthrough = parseFallthrough(sub);
          break;
        case 'fallthrough_unsupported':
          argCount(sub, 0);
          opts.fallthroughUnsupported = true;
          break;
        default:
          // Anything else is a hosts line, until `fallthrough` (as CoreDNS parses it).
          if (opts.fallthrough !== null) throw pluginError('hosts', sub.name, `unknown property '${sub.name.text}'`);
          inline.push(inlineLine(sub));
      }
    }
    if (opts.fallthroughUnsupported && opts.fallthrough === null) {
      throw pluginError('hosts', d.name, 'fallthrough_unsupported requires fallthrough');
    }
    const inlineMap = inline.length > 0 ? parseHosts(inline.join('\n'), zones, reverse) : emptyHosts();
    const source = new HostsSource({ path, zones, reverse, reloadMs }, inlineMap, c.app.pluginLog('hosts'));
    c.onStartup(() => source.start());
    c.onShutdown(() => source.stop());
    c.handler((next) => new HostsHandler(opts, source, next));
  },
};

function inlineLine(sub: Directive): string {
  noBlock(sub);
  return [sub.name.text, ...sub.args.map((a) => a.text)].join(' ');
}
