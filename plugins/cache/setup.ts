// `cache [TTL] [ZONES...] { success CAP [TTL [MINTTL]]; denial CAP [TTL [MINTTL]];
//   prefetch AMOUNT [DURATION [PCT%]]; serve_stale [DURATION [immediate|verify]];
//   servfail DURATION; disable success|denial [ZONES...]; keepttl }` (CoreDNS plugin/cache/setup.go)

import type { PluginDef, SetupContext } from '../../src/chain/plugin.js';
import { argCount, onlyDirective, parseDuration, parseUint, pluginError, subdirectives, unknownSubdirective, zoneArgs } from '../../src/corefile/args.js';
import { CorefileError, type Directive, type Token } from '../../src/corefile/types.js';
import { CacheHandler, type CacheOptions } from './handler.js';
import { CacheStore, type Kind } from './store.js';

const DEFAULT_CAP = 9984;
/** CoreDNS shards each cache 256 ways with at least 4 slots per shard. */
const MIN_CAP = 1024;
const MAX_SERVFAIL_MS = 5 * 60_000;

export const plugin: PluginDef = {
  name: 'cache',
  setup(c: SetupContext): void {
    const { opts, caps } = parseCache(onlyDirective(c.directives), c.zones);
    const store = new CacheStore(caps);
    let handler: CacheHandler | undefined;
    let unwatch: (() => void) | undefined;
    c.handler((next) => (handler = new CacheHandler(opts, store, next, c.app)));
    c.onStartup(() => {
      unwatch = handler?.watch();
    });
    c.onShutdown(() => {
      unwatch?.();
      store.clear();
    });
  },
};

/** The directive's options and the capacity of each cache. Exported for tests. */
export function parseCache(d: Directive, blockZones: string[]): { opts: CacheOptions; caps: Record<Kind, number> } {
  let args = d.args;
  const opts: CacheOptions = {
    zones: blockZones,
    success: { maxTtl: 3600, minTtl: 5 },
    denial: { maxTtl: 1800, minTtl: 5 },
    servfailTtl: 5,
    prefetch: { amount: 0, durationMs: 60_000, percentage: 10 },
    staleMs: 0,
    verifyStale: false,
    disabled: { success: [], denial: [] },
    keepTtl: false,
  };
  const caps: Record<Kind, number> = { success: DEFAULT_CAP, denial: DEFAULT_CAP };
  if (args.length > 0 && /^-?\d+$/.test(args[0]!.text)) {
    const ttl = positiveTtl(args[0]!, 'cache: TTL');
    opts.success.maxTtl = ttl;
    opts.denial.maxTtl = ttl;
    args = args.slice(1);
  }
  if (args.length > 0) opts.zones = zoneArgs({ ...d, args });

  for (const sub of subdirectives(d)) {
    const name = sub.name.text;
    switch (name) {
      case 'success':
      case 'denial': {
        const [cap, ttl, minTtl] = argCount(sub, 1, 3);
        caps[name] = Math.max(MIN_CAP, parseUint(cap!, `cache: ${name} capacity`));
        if (ttl) opts[name].maxTtl = positiveTtl(ttl, `cache: ${name} TTL`);
        if (minTtl) opts[name].minTtl = parseUint(minTtl, `cache: ${name} min TTL`);
        break;
      }
      case 'prefetch': {
        const [amount, duration, pct] = argCount(sub, 1, 3);
        opts.prefetch.amount = parseUint(amount!, 'cache: prefetch amount');
        if (duration) opts.prefetch.durationMs = parseDuration(duration, 'cache: prefetch');
        if (pct) opts.prefetch.percentage = percentage(pct);
        break;
      }
      case 'serve_stale': {
        const [duration, mode] = argCount(sub, 0, 2);
        opts.staleMs = duration ? parseDuration(duration, 'cache: serve_stale') : 3_600_000;
        const m = mode?.text.toLowerCase() ?? 'immediate';
        if (m !== 'immediate' && m !== 'verify') throw pluginError('cache', mode!, `serve_stale refresh mode must be immediate or verify, got '${mode!.text}'`);
        opts.verifyStale = m === 'verify';
        break;
      }
      case 'servfail': {
        const tok = argCount(sub, 1)[0]!;
        const ms = parseDuration(tok, 'cache: servfail');
        if (ms > MAX_SERVFAIL_MS) throw pluginError('cache', tok, 'caching SERVFAIL responses over 5 minutes is not permitted');
        opts.servfailTtl = Math.floor(ms / 1000);
        break;
      }
      case 'disable': {
        const [kind, ...zones] = argCount(sub, 1, Infinity);
        if (kind!.text !== 'success' && kind!.text !== 'denial') {
          throw pluginError('cache', kind!, `disable takes success or denial, got '${kind!.text}'`);
        }
        opts.disabled[kind!.text] = zones.length > 0 ? zoneArgs({ ...sub, args: zones }) : opts.zones;
        break;
      }
      case 'keepttl':
        argCount(sub, 0);
        opts.keepTtl = true;
        break;
      default:
        throw unknownSubdirective(d, sub);
    }
  }
  return { opts, caps };
}

function positiveTtl(tok: Token, name: string): number {
  if (/^-?\d+$/.test(tok.text) && Number(tok.text) <= 0) throw CorefileError.at(tok, `${name} can not be zero or negative: ${tok.text}`);
  return parseUint(tok, name, 1);
}

function percentage(tok: Token): number {
  const m = /^(\d+)%$/.exec(tok.text);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 10 && n <= 90)) throw pluginError('cache', tok, `prefetch percentage must be 10% to 90%, got '${tok.text}'`);
  return n;
}
