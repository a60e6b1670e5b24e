// Which plugin answered a lookup. A DNS reply does not say, but the node's
// prometheus plugin counts every reply under the plugin that wrote it
// (`coredns_dns_responses_total{plugin}`: cluster, srv, forward, cache for a
// hit, ...). So `lookup` reads that counter before and after its one query
// and looks at what moved, for the node's server on the queried port, the
// zone the name falls in and the rcode the reply had. Exactly one plugin
// moving is an answer; other clients' queries landing in between with
// another plugin make it ambiguous, and it says so instead of guessing.
//
// /metrics is the prometheus plugin's endpoint, not the discovery API, so it
// is read with undici (the client library's HTTP stack) directly.

import { request } from 'undici';

export const DEFAULT_METRICS_URL = 'http://127.0.0.1:9153/metrics';
const METRIC = 'coredns_dns_responses_total';

export interface AnsweredBy {
  /** The plugin that wrote the reply ("" = the server itself, nobody wrote one), or null when unknown. */
  plugin: string | null;
  /** Every plugin whose count for this kind of reply moved, and by how much. */
  counted: Record<string, number>;
  /** Why `plugin` is null. */
  reason?: string;
}

interface Series {
  labels: Record<string, string>;
  value: number;
}

/** `HOST:PORT` or a URL; `/metrics` when the URL names no path. */
export function metricsUrl(text: string | undefined): string {
  if (text === undefined) return DEFAULT_METRICS_URL;
  const url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/metrics';
  return url.toString();
}

/** The counter's series now; rejects with the reason when /metrics cannot be read. */
export async function scrape(url: string, timeoutMs = 3000): Promise<Series[]> {
  const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
  return parseSeries(text, METRIC);
}

/** The samples of one metric in the Prometheus text format. */
export function parseSeries(text: string, name: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

/**
 * Compares the counter before and after one query of `qname` to the server
 * on `port` that came back with `rcode`.
 */
export function attribute(before: Series[], after: Series[], qname: string, port: number, rcode: string): AnsweredBy {
  const ours = (s: Series): boolean => s.labels.server?.endsWith(`:${port}`) === true && s.labels.rcode === rcode;
  // The server block zone the query matched: the longest counted zone that holds the name.
  const name = qname.toLowerCase().replace(/\.?$/, '.');
  const zone = after
    .filter(ours)
    .map((s) => s.labels.zone ?? '')
    .filter((z) => z === '.' || name === z || name.endsWith(`.${z}`))
    .sort((a, b) => b.length - a.length)[0];
  const key = (s: Series): string => `${s.labels.server}|${s.labels.zone}|${s.labels.plugin}`;
  const was = new Map(before.filter(ours).map((s) => [key(s), s.value]));
  const counted: Record<string, number> = {};
  for (const s of after) {
    if (!ours(s) || s.labels.zone !== zone) continue;
    const d = s.value - (was.get(key(s)) ?? 0);
    if (d > 0) counted[s.labels.plugin ?? ''] = (counted[s.labels.plugin ?? ''] ?? 0) + d;
  }
  const plugins = Object.keys(counted);
  if (plugins.length === 1) return { plugin: plugins[0]!, counted };
  if (plugins.length === 0) {
    return {
      plugin: null,
      counted,
      reason: `the node counted no ${rcode} reply on port ${port}: the server block that answered has no prometheus plugin, or --metrics is another node's`,
    };
  }
  return {
    plugin: null,
    counted,
    reason: `other queries reached the node meanwhile, answered by ${plugins.map((p) => p || '(server)').join(', ')}; ask again to tell`,
  };
}
