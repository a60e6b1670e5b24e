// Podman's containers.conf, as Podman 4 reads it for root: the vendor file,
// /etc/containers/containers.conf, then /etc/containers/containers.conf.d/*.conf
// in name order, each key overriding the one before. Our settings are a
// drop-in of their own, so no file of the user's is ever rewritten, and a
// user's own dns_servers comes back the moment the drop-in goes.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'smol-toml';

export const DROPIN_DIR = '/etc/containers/containers.conf.d';
export const DROPIN_NAME = '50-podswarm-dns.conf';
const MAIN_FILES = ['/usr/share/containers/containers.conf', '/etc/containers/containers.conf'];

/** The [containers] keys setup owns. */
export const DNS_KEYS = ['dns_servers', 'dns_searches', 'dns_options'] as const;
export type DnsSettings = Record<(typeof DNS_KEYS)[number], string[]>;

/**
 * `svc.cluster.local cluster.local` makes `web.shop` find `web.shop.svc.cluster.local`
 * (and `web.shop.cluster.local`). ndots:2 tries that search list before the name
 * as written, so `web.shop` is never sent upstream first; it costs a name with
 * one dot (`example.com`) two quick local NXDOMAINs, as Kubernetes' ndots:5 does more.
 */
export function dnsSettings(servers: string[]): DnsSettings {
  return { dns_servers: servers, dns_searches: ['svc.cluster.local', 'cluster.local'], dns_options: ['ndots:2'] };
}

export function renderDropin(s: DnsSettings): string {
  return stringify({ containers: s }).trimEnd() + '\n';
}

/** The settings in a drop-in we wrote (for `setup link` at boot). */
export function parseDropin(path: string, body: string): DnsSettings {
  const c = tomlTable(path, body)['containers'];
  const get = (k: string): string[] => {
    const v = (c as Record<string, unknown> | undefined)?.[k];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${path}: containers.${k} is not a list of strings`);
    return v;
  };
  return { dns_servers: get('dns_servers'), dns_searches: get('dns_searches'), dns_options: get('dns_options') };
}

export interface ConfFile {
  path: string;
  /** The [containers] DNS keys this file sets. */
  dnsKeys: Partial<DnsSettings>;
}

/**
 * Every containers.conf file Podman reads, in its order, except ours. A file
 * that cannot be read or parsed is an error: Podman itself would refuse it.
 */
export function podmanConfFiles(dropinDir = DROPIN_DIR): ConfFile[] {
  let names: string[] = [];
  try {
    names = readdirSync(dropinDir)
      .filter((n) => n.endsWith('.conf'))
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${dropinDir}: ${(e as Error).message}`);
  }
  const files: ConfFile[] = [];
  for (const path of [...MAIN_FILES, ...names.filter((n) => n !== DROPIN_NAME).map((n) => join(dropinDir, n))]) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && MAIN_FILES.includes(path)) continue;
      throw new Error(`cannot read ${path}: ${(e as Error).message}`);
    }
    const c = (tomlTable(path, text)['containers'] ?? {}) as Record<string, unknown>;
    const dnsKeys: Partial<DnsSettings> = {};
    for (const k of DNS_KEYS) if (Array.isArray(c[k])) dnsKeys[k] = c[k] as string[];
    files.push({ path, dnsKeys });
  }
  return files;
}

function tomlTable(path: string, text: string): Record<string, unknown> {
  try {
    return parse(text);
  } catch (e) {
    throw new Error(`cannot read ${path}: not valid TOML: ${(e as Error).message.split('\n')[0]}`);
  }
}
