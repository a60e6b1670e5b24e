// A registry source read from a YAML file and re-read when the file changes.
// A file that fails to parse or validate is reported and the last good
// contents keep serving.

import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { load } from 'js-yaml';
import type { App } from '../../app.js';
import type { Share } from '../../chain/kept-across-reload.js';
import { canonicalAddress, canonicalHostName, dashedAddress, isDnsLabel } from '../../registry/names.js';
import type { Endpoint, HealthCheck, Protocol, Service, ServicePort, SourceSnapshot } from '../../registry/types.js';
import { claimSource } from '../source-claims.js';
import { sourceKey } from '../source-id.js';

export class RegistryFileError extends Error {
  constructor(file: string, path: string, reason: string) {
    super(`${file}: ${path ? path + ': ' : ''}${reason}`);
    this.name = 'RegistryFileError';
  }
}

/** Reads and validates a registry file. `defaultNode` names the node for endpoints without `node`. */
export function loadRegistryFile(file: string, defaultNode: string): SourceSnapshot {
  let doc: unknown;
  try {
    doc = load(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RegistryFileError(file, '', (e as Error).message.split('\n')[0]!);
  }
  return toSnapshot(file, doc, defaultNode);
}

function toSnapshot(file: string, doc: unknown, defaultNode: string): SourceSnapshot {
  const fail = (path: string, reason: string): never => {
    throw new RegistryFileError(file, path, reason);
  };
  if (doc === null || doc === undefined) return { services: [], endpoints: [] };
  if (typeof doc !== 'object' || Array.isArray(doc)) fail('', 'expected a mapping with a `services` list');
  const top = doc as Record<string, unknown>;
  const node = top.node === undefined ? defaultNode : str(top.node, 'node', fail);
  const list = top.services ?? [];
  if (!Array.isArray(list)) fail('services', 'expected a list');
  const services: Service[] = [];
  const endpoints: Endpoint[] = [];
  const seen = new Set<string>();
  const now = Date.now();
  (list as unknown[]).forEach((raw, i) => {
    const at = `services[${i}]`;
    if (typeof raw !== 'object' || raw === null) fail(at, 'expected a mapping');
    const s = raw as Record<string, unknown>;
    const name = label(s.name, `${at}.name`, fail);
    const namespace = s.namespace === undefined ? 'default' : label(s.namespace, `${at}.namespace`, fail);
    if (seen.has(`${namespace}/${name}`)) fail(`${at}`, `service ${name}.${namespace} is listed twice`);
    seen.add(`${namespace}/${name}`);
    const ports = portsOf(s.ports, `${at}.ports`, fail);
    if (s.external_name !== undefined) {
      const target = canonicalHostName(str(s.external_name, `${at}.external_name`, fail)) ?? fail(`${at}.external_name`, 'not a host name');
      if (s.endpoints !== undefined) fail(`${at}.endpoints`, 'an external_name service has no endpoints (it is a CNAME)');
      services.push({ namespace, name, ports, externalName: target });
      return;
    }
    services.push({ namespace, name, ports });
    const eps = s.endpoints ?? [];
    if (!Array.isArray(eps)) fail(`${at}.endpoints`, 'expected a list');
    const names = new Set<string>();
    (eps as unknown[]).forEach((rawEp, j) => {
      const eat = `${at}.endpoints[${j}]`;
      if (typeof rawEp !== 'object' || rawEp === null) fail(eat, 'expected a mapping');
      const e = rawEp as Record<string, unknown>;
      const address = canonicalAddress(str(e.address, `${eat}.address`, fail)) ?? fail(`${eat}.address`, 'not an IP address');
      const epName = e.name === undefined ? dashedAddress(address) : label(e.name, `${eat}.name`, fail);
      if (names.has(epName)) fail(`${eat}.name`, `endpoint name ${epName} is used twice in ${name}.${namespace}`);
      names.add(epName);
      const healthy =
        e.healthy === undefined ? true : e.healthy === true ? true : e.healthy === false ? false : fail(`${eat}.healthy`, 'expected true or false');
      const epPorts = e.ports === undefined ? ports : portsOf(e.ports, `${eat}.ports`, fail);
      const weight = e.weight === undefined ? undefined : weightOf(e.weight, `${eat}.weight`, fail);
      // an endpoint's own health_check replaces the service's
      const check =
        e.health_check !== undefined
          ? healthCheckOf(e.health_check, `${eat}.health_check`, epPorts, fail)
          : s.health_check !== undefined
            ? healthCheckOf(s.health_check, `${at}.health_check`, epPorts, fail)
            : undefined;
      endpoints.push({
        namespace,
        service: name,
        name: epName,
        nodeName: e.node === undefined ? node : str(e.node, `${eat}.node`, fail),
        address,
        ports: epPorts,
        healthy,
        ...(weight !== undefined && { weight }),
        ...(check && { healthCheck: check }),
        updatedAt: now,
      });
    });
  });
  return { services, endpoints };
}

type Fail = (path: string, reason: string) => never;

function str(v: unknown, path: string, fail: Fail): string {
  if (typeof v !== 'string' || v === '') return fail(path, 'expected a non-empty string');
  return v;
}

function label(v: unknown, path: string, fail: Fail): string {
  const s = str(v, path, fail);
  if (!isDnsLabel(s)) fail(path, `${JSON.stringify(s)} is not a DNS label (lowercase letters, digits, '-', at most 63)`);
  return s;
}

function portsOf(v: unknown, path: string, fail: Fail): ServicePort[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return fail(path, 'expected a list');
  return v.map((raw, i) => {
    const at = `${path}[${i}]`;
    if (typeof raw !== 'object' || raw === null) fail(at, 'expected a mapping');
    const p = raw as Record<string, unknown>;
    const port = p.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) fail(`${at}.port`, 'expected a port number 1-65535');
    const protocol = (p.protocol ?? 'tcp') as Protocol;
    if (protocol !== 'tcp' && protocol !== 'udp') fail(`${at}.protocol`, 'expected tcp or udp');
    return { name: label(p.name, `${at}.name`, fail), port: port, protocol };
  });
}

/** An SRV weight: 0-65535 (RFC 2782). */
function weightOf(v: unknown, path: string, fail: Fail): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) return fail(path, 'expected an SRV weight 0-65535');
  return v;
}

const CHECK_SHAPE = 'expected { tcp: PORT } or { http: /PATH, port: PORT }, each with an optional initially: healthy';

/**
 * `{ tcp: PORT }` or `{ http: /PATH, port: PORT }`; PORT is one of the endpoint's
 * tcp port names, or a number. `initially: healthy` serves the endpoint before
 * its first check passes (the default is not to, as Kubernetes readiness).
 */
function healthCheckOf(v: unknown, path: string, ports: ServicePort[], fail: Fail): HealthCheck {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(path, CHECK_SHAPE);
  const { initially, ...c } = v as Record<string, unknown>;
  if (initially !== undefined && initially !== 'healthy' && initially !== 'unhealthy') return fail(`${path}.initially`, 'expected healthy or unhealthy');
  const opt = initially === 'healthy' ? { initially: 'healthy' as const } : {};
  const keys = Object.keys(c).sort().join(',');
  if (keys === 'tcp') return { port: checkPort(c.tcp, `${path}.tcp`, ports, fail), ...opt };
  if (keys !== 'http,port') return fail(path, CHECK_SHAPE);
  if (typeof c.http !== 'string' || !c.http.startsWith('/')) return fail(`${path}.http`, 'expected a path starting with /');
  return { port: checkPort(c.port, `${path}.port`, ports, fail), httpPath: c.http, ...opt };
}

function checkPort(v: unknown, path: string, ports: ServicePort[], fail: Fail): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535) return v;
  if (typeof v !== 'string') return fail(path, 'expected a port name or a port number 1-65535');
  return ports.find((p) => p.name === v && p.protocol === 'tcp')?.port ?? fail(path, `no tcp port named ${JSON.stringify(v)}`);
}

/**
 * Keeps the registry in step with `file` under its source key (`file:PATH`).
 * Watches the directory (editors replace files by rename) and debounces.
 */
export class FileSource {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The source key, shared with the previous config's FileSource of the same file during a reload. */
  private claim: Share<string> | undefined;
  readonly id: string;

  constructor(
    private readonly app: App,
    readonly file: string,
    private readonly onError: (err: Error) => void,
  ) {
    this.id = sourceKey({ kind: 'file', detail: file });
  }

  /** First load: errors are thrown so startup can refuse a bad file. */
  async start(): Promise<void> {
    const snap = loadRegistryFile(this.file, this.app.options.nodeName);
    this.claim = await claimSource(this.app, this.id);
    this.app.registry.setSource(this.id, snap);
    const name = basename(this.file);
    this.watcher = watch(dirname(this.file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), 50);
    });
    this.watcher.on('error', (err) => this.onError(err));
  }

  private reload(): void {
    // During a reload the newer FileSource reads the same file.
    if (!this.claim?.newest) return;
    try {
      this.app.registry.setSource(this.id, loadRegistryFile(this.file, this.app.options.nodeName));
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** Stops watching; the entries leave the registry unless another FileSource of the file still runs. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.watcher?.close();
    await this.claim?.release();
  }
}
