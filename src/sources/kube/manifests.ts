// The parts of Kubernetes YAML (what `podman kube play` plays) that give DNS
// names: `kind: Service` objects, and the named container ports of the pods
// and pod templates (Deployment, DaemonSet, StatefulSet, ReplicaSet, Job),
// which a Service's named `targetPort` refers to. Every other kind is ignored,
// as Podman ignores what it does not play. Errors name the file, the
// document and the field.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { canonicalHostName, isDnsLabel } from '../../registry/names.js';
import type { Protocol } from '../../registry/types.js';

export interface KubeServicePort {
  name: string;
  port: number;
  /** A port number on the pod, or the name of a container port. */
  targetPort: number | string;
  protocol: Protocol;
}

export interface KubeService {
  namespace: string;
  name: string;
  /** Pods whose labels include every one of these; undefined: no selector (no endpoints). */
  selector: Record<string, string> | undefined;
  ports: KubeServicePort[];
  publishNotReadyAddresses: boolean;
  externalName?: string;
}

/** A pod (or a template's pod): its labels and its named container ports. */
export interface KubePodPorts {
  labels: Record<string, string>;
  ports: Map<string, number>;
}

export interface Manifests {
  services: KubeService[];
  pods: KubePodPorts[];
}

export class ManifestError extends Error {
  constructor(where: string, reason: string) {
    super(`${where}: ${reason}`);
    this.name = 'ManifestError';
  }
}

const POD_TEMPLATE_KINDS = new Set(['Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet', 'Job']);

/** The YAML files a path names: the file itself, or a directory's `*.yaml`/`*.yml` (sorted). */
export function manifestFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

/** Reads every file of every path; throws ManifestError for the first bad one. */
export function loadManifests(paths: readonly string[]): Manifests {
  const out: Manifests = { services: [], pods: [] };
  const seen = new Set<string>();
  for (const path of paths) {
    let files: string[];
    try {
      files = manifestFiles(path);
    } catch (e) {
      throw new ManifestError(path, (e as Error).message);
    }
    for (const file of files) readFile(file, out, seen);
  }
  return out;
}

function readFile(file: string, out: Manifests, seen: Set<string>): void {
  let docs: unknown[];
  try {
    docs = loadAll(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ManifestError(file, (e as Error).message.split('\n')[0]!);
  }
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    const where = `${file}: document ${i + 1}`;
    if (!isObject(doc)) throw new ManifestError(where, 'expected a mapping (a Kubernetes object)');
    const kind = doc.kind;
    if (kind === 'Service') {
      const s = service(doc, where);
      const key = `${s.namespace}/${s.name}`;
      if (seen.has(key)) throw new ManifestError(where, `Service ${s.name} in namespace ${s.namespace} is defined twice`);
      seen.add(key);
      out.services.push(s);
    } else if (kind === 'Pod') {
      out.pods.push(podPorts(doc.metadata, doc.spec, where));
    } else if (typeof kind === 'string' && POD_TEMPLATE_KINDS.has(kind)) {
      const template = isObject(doc.spec) && isObject(doc.spec.template) ? doc.spec.template : {};
      out.pods.push(podPorts(template.metadata, template.spec, `${where} (${kind} template)`));
    }
  });
}

function service(doc: Record<string, unknown>, at: string): KubeService {
  const meta = isObject(doc.metadata) ? doc.metadata : {};
  const name = label(meta.name, `${at}: metadata.name`);
  const where = `${at} (Service ${name})`;
  const namespace = meta.namespace === undefined ? 'default' : label(meta.namespace, `${where}: metadata.namespace`);
  const spec = isObject(doc.spec) ? doc.spec : {};
  if (spec.type === 'ExternalName') {
    if (typeof spec.externalName !== 'string') throw new ManifestError(where, 'spec.externalName: required for type ExternalName');
    const target = canonicalHostName(spec.externalName);
    if (target === undefined) throw new ManifestError(where, `spec.externalName: ${JSON.stringify(spec.externalName)} is not a host name`);
    return { namespace, name, selector: undefined, ports: [], publishNotReadyAddresses: false, externalName: target };
  }
  let selector: Record<string, string> | undefined;
  if (spec.selector !== undefined && spec.selector !== null) {
    if (!isObject(spec.selector) || !Object.values(spec.selector).every((v) => typeof v === 'string')) {
      throw new ManifestError(where, 'spec.selector: expected a map of label names to strings');
    }
    selector = spec.selector as Record<string, string>;
  }
  const rawPorts = spec.ports ?? [];
  if (!Array.isArray(rawPorts)) throw new ManifestError(where, 'spec.ports: expected a list');
  const ports = rawPorts.map((p: unknown, i: number) => servicePort(p, `${where}: spec.ports[${i}]`, rawPorts.length));
  const pna = spec.publishNotReadyAddresses ?? false;
  if (typeof pna !== 'boolean') throw new ManifestError(where, 'spec.publishNotReadyAddresses: expected true or false');
  return { namespace, name, selector, ports: ports.filter((p): p is KubeServicePort => p !== undefined), publishNotReadyAddresses: pna };
}

/** A named port; an unnamed one (allowed when it is the only one) has no SRV name, so it is left out. */
function servicePort(raw: unknown, at: string, count: number): KubeServicePort | undefined {
  if (!isObject(raw)) throw new ManifestError(at, 'expected a mapping');
  const port = raw.port;
  if (!isPort(port)) throw new ManifestError(at, 'port: expected a port number 1-65535');
  const protocol = String(raw.protocol ?? 'TCP').toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp')
    throw new ManifestError(at, `protocol: ${JSON.stringify(raw.protocol)} is not TCP or UDP (SCTP has no SRV here)`);
  const target = raw.targetPort ?? port;
  if (!isPort(target) && !(typeof target === 'string' && isDnsLabel(target)))
    throw new ManifestError(at, 'targetPort: expected a port number or a container port name');
  if (raw.name === undefined) {
    if (count > 1) throw new ManifestError(at, 'name: required when a Service has several ports');
    return undefined;
  }
  return { name: label(raw.name, `${at}.name`), port, targetPort: target, protocol };
}

function podPorts(metadata: unknown, spec: unknown, at: string): KubePodPorts {
  const labels = isObject(metadata) && isObject(metadata.labels) ? stringMap(metadata.labels) : {};
  const ports = new Map<string, number>();
  const containers = isObject(spec) && Array.isArray(spec.containers) ? spec.containers : [];
  containers.forEach((c: unknown, i: number) => {
    const list = isObject(c) && Array.isArray(c.ports) ? c.ports : [];
    list.forEach((p: unknown, j: number) => {
      if (!isObject(p) || p.name === undefined) return;
      if (typeof p.name !== 'string' || !isPort(p.containerPort))
        throw new ManifestError(at, `spec.containers[${i}].ports[${j}]: expected a name and a containerPort 1-65535`);
      ports.set(p.name, p.containerPort);
    });
  });
  return { labels, ports };
}

function label(v: unknown, at: string): string {
  if (typeof v !== 'string' || !isDnsLabel(v))
    throw new ManifestError(at, `${JSON.stringify(v)} is not a DNS label (lowercase letters, digits, '-', at most 63)`);
  return v;
}

function stringMap(o: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

function isPort(p: unknown): p is number {
  return Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Whether `labels` carry every label of `selector`. */
export function selects(selector: Record<string, string>, labels: Record<string, string> | null | undefined): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}
