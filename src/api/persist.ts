// Endpoints registered through the API are the one thing a node owns that no
// other source re-creates after a restart (Podman's and the registry files'
// come back by themselves, other nodes' by gossip), so they live in the state
// directory: loaded before gossip starts and before the DNS listeners open,
// written after every change, and a PUT or DELETE is acknowledged only once
// the file holding it is on disk (src/state/). Consul's agent does the same
// with services registered through its API (data_dir/services).

import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../app.js';
import { KeptForLife } from '../chain/kept-across-reload.js';
import { canonicalAddress, canonicalHostName, isDnsLabel } from '../registry/names.js';
import type { Endpoint, Service, SourceSnapshot } from '../registry/types.js';
import { loadStateFile, StateFile } from '../state/state-file.js';
import { API_SOURCE } from './routes.js';

export const REGISTRATIONS_FILE = 'api-registrations.json';
const FORMAT = 1;

export interface Registrations {
  readonly dir: string;
  /** Resolves once the API's registrations as of now are on disk. */
  save(): Promise<void>;
  idle(): Promise<void>;
}

/** Opened once per process, at the first config that names a state directory; a reload keeps it. */
const opened = new KeptForLife<Registrations>();

/** This process's persisted registrations, if a state directory is configured. */
export function registrationsOf(app: App): Registrations | undefined {
  return opened.current(app, '');
}

/**
 * Loads `dir`'s registrations into the registry (once per process: a reload
 * keeps them) and saves every later change of the API's source. Throws when
 * the directory cannot be made or read; `checkWritable` then proves writing.
 */
export function openRegistrations(app: App, dir: string): Registrations {
  const r = opened.get(app, '', () => open(app, dir));
  if (r.dir !== dir) throw new Error(`state directory ${r.dir} cannot change to ${dir} on a reload: restart the node to move it`);
  return r;
}

function open(app: App, dir: string): Registrations {
  ensureDirectory(dir);
  const path = join(dir, REGISTRATIONS_FILE);
  const log = app.pluginLog('api');
  const loaded = loadStateFile(path, decodeRegistrations);
  if (loaded.kind === 'corrupt') {
    log.error(
      `state file ${path} refused: ${loaded.reason}; kept as ${loaded.keptAs}, starting without the registrations it held (re-register them, or repair the file and restart)`,
    );
  } else if (loaded.kind === 'ok') {
    app.registry.setSource(API_SOURCE, loaded.value);
    log.info(`loaded ${loaded.value.endpoints.length + loaded.value.services.length} registration(s) from ${path}`);
  }
  const file = new StateFile(path, () => encodeRegistrations(app.registry.snapshot(API_SOURCE)));
  // Health verdicts of registered endpoints are theirs too: every change of the source is saved.
  app.registry.on('source', (source) => {
    if (source === API_SOURCE) file.save().catch((e: unknown) => log.error(`cannot save ${path}: ${(e as Error).message}`));
  });
  return { dir, save: () => file.save(), idle: () => file.idle() };
}

/** Writes the file once, so a directory that is not writable stops the start rather than the first PUT. */
export async function checkWritable(r: Registrations): Promise<void> {
  try {
    await r.save();
  } catch (e) {
    throw new Error(`state directory ${r.dir} is not writable: ${(e as Error).message}`);
  }
}

function ensureDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new Error(`state directory ${dir} is not a directory`);
    throw new Error(`state directory ${dir}: ${(e as Error).message}`);
  }
  if (!statSync(dir).isDirectory()) throw new Error(`state directory ${dir} is not a directory`);
}

/** `services` (ExternalName aliases) is left out when empty, so files stay readable by versions without it. */
export function encodeRegistrations({ endpoints, services }: SourceSnapshot): string {
  return JSON.stringify({ format: FORMAT, endpoints, ...(services.length > 0 && { services }) }) + '\n';
}

/** The file's registrations; throws with the first problem found (a file is taken whole or not at all). */
export function decodeRegistrations(text: string): SourceSnapshot {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON (truncated?): ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new Error('not a JSON object');
  if (doc.format !== FORMAT) throw new Error(`format ${JSON.stringify(doc.format)}: expected ${FORMAT}`);
  if (!Array.isArray(doc.endpoints)) throw new Error('endpoints: not a list');
  const seen = new Set<string>();
  const endpoints = doc.endpoints.map((e: unknown, i: number) => {
    const ep = checkEndpoint(e, `endpoints[${i}]`);
    const key = `${ep.namespace}/${ep.service}/${ep.name}`;
    if (seen.has(key)) throw new Error(`endpoints[${i}]: ${key} appears twice`);
    seen.add(key);
    return ep;
  });
  const rawServices = doc.services ?? [];
  if (!Array.isArray(rawServices)) throw new Error('services: not a list');
  const services = rawServices.map((s: unknown, i: number) => checkAlias(s, `services[${i}]`));
  return { endpoints, services };
}

/** An ExternalName alias registered through the API. */
function checkAlias(s: unknown, at: string): Service {
  if (!isObject(s)) throw new Error(`${at}: not an object`);
  for (const f of ['namespace', 'name'] as const) if (typeof s[f] !== 'string' || !isDnsLabel(s[f])) throw new Error(`${at}.${f}: not a DNS label`);
  if (typeof s.externalName !== 'string' || canonicalHostName(s.externalName) !== s.externalName) throw new Error(`${at}.externalName: not a host name`);
  return { namespace: s.namespace as string, name: s.name as string, ports: [], externalName: s.externalName };
}

function checkEndpoint(e: unknown, at: string): Endpoint {
  if (!isObject(e)) throw new Error(`${at}: not an object`);
  for (const f of ['namespace', 'service', 'name'] as const) if (typeof e[f] !== 'string' || !isDnsLabel(e[f])) throw new Error(`${at}.${f}: not a DNS label`);
  if (typeof e.nodeName !== 'string' || e.nodeName === '') throw new Error(`${at}.nodeName: missing`);
  if (typeof e.address !== 'string' || canonicalAddress(e.address) !== e.address) throw new Error(`${at}.address: not an IP address in canonical form`);
  if (typeof e.healthy !== 'boolean') throw new Error(`${at}.healthy: not a boolean`);
  if (typeof e.updatedAt !== 'number') throw new Error(`${at}.updatedAt: not a number`);
  if (!Array.isArray(e.ports)) throw new Error(`${at}.ports: not a list`);
  e.ports.forEach((p: unknown, j: number) => {
    const ok =
      isObject(p) &&
      typeof p.name === 'string' &&
      isDnsLabel(p.name) &&
      Number.isInteger(p.port) &&
      (p.port as number) >= 1 &&
      (p.port as number) <= 65535 &&
      (p.protocol === 'tcp' || p.protocol === 'udp');
    if (!ok) throw new Error(`${at}.ports[${j}]: expected {name, port 1-65535, protocol tcp|udp}`);
  });
  // Fields this version does not check (health settings, say) are kept as they are.
  return e as unknown as Endpoint;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
