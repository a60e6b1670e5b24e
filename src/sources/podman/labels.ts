// The container labels that make a Podman container a service endpoint:
//   podswarm.service=api                          (required)
//   podswarm.namespace=default                    (default: default)
//   podswarm.ports=http:8080/tcp,grpc:50051/tcp   (name:port[/tcp|udp], comma-separated)
//   podswarm.health=tcp[:NAME] | http:/PATH[@NAME] | none
//                                                 (default: tcp on the first tcp port, none without one,
//                                                  none when the container has a Podman HEALTHCHECK)
//   podswarm.health.initially=healthy             (served before the first check passes; default: not)
//   podswarm.weight=N                             (SRV weight 0-65535; default: equal shares)

import { isDnsLabel } from '../../registry/names.js';
import type { HealthCheck, Protocol, ServicePort } from '../../registry/types.js';

export const LABEL_SERVICE = 'podswarm.service';
export const LABEL_NAMESPACE = 'podswarm.namespace';
export const LABEL_PORTS = 'podswarm.ports';
export const LABEL_HEALTH = 'podswarm.health';
export const LABEL_HEALTH_INITIALLY = 'podswarm.health.initially';
export const LABEL_WEIGHT = 'podswarm.weight';

export interface ServiceLabels {
  service: string;
  namespace: string;
  ports: ServicePort[];
  /** How this node checks the container (plugins/healthcheck); undefined: never. */
  healthCheck: HealthCheck | undefined;
  /** SRV weight; undefined: an equal share. */
  weight?: number;
}

/**
 * The labels' meaning; undefined when the container is not a service; throws
 * with the bad label's text. `podmanChecked`: the container has a Podman
 * HEALTHCHECK, which then is its check unless `podswarm.health` asks for ours too.
 */
export function parseLabels(labels: Record<string, string> | null | undefined, podmanChecked = false): ServiceLabels | undefined {
  const service = labels?.[LABEL_SERVICE];
  if (service === undefined) return undefined;
  if (!isDnsLabel(service)) throw new Error(`${LABEL_SERVICE}=${service}: not a DNS label (lowercase letters, digits, '-')`);
  const namespace = labels![LABEL_NAMESPACE] ?? 'default';
  if (!isDnsLabel(namespace)) throw new Error(`${LABEL_NAMESPACE}=${namespace}: not a DNS label (lowercase letters, digits, '-')`);
  const ports = parsePorts(labels![LABEL_PORTS] ?? '');
  const text = labels![LABEL_HEALTH] ?? (podmanChecked ? 'none' : undefined);
  const check = parseHealth(text, ports);
  const initially = labels![LABEL_HEALTH_INITIALLY];
  if (initially !== undefined && initially !== 'healthy' && initially !== 'unhealthy') {
    throw new Error(`${LABEL_HEALTH_INITIALLY}=${initially}: expected healthy or unhealthy`);
  }
  const weightText = labels![LABEL_WEIGHT];
  const weight = weightText === undefined ? undefined : Number(weightText);
  if (weight !== undefined && !(/^\d{1,5}$/.test(weightText!) && weight <= 65535))
    throw new Error(`${LABEL_WEIGHT}=${weightText}: expected an SRV weight 0-65535`);
  return {
    service,
    namespace,
    ports,
    healthCheck: check && initially === 'healthy' ? { ...check, initially } : check,
    ...(weight !== undefined && { weight }),
  };
}

const HEALTH = /^(?:(none)|tcp(?::([^:@]+))?|http:(\/[^@\s]*)(?:@([^@\s]+))?)$/;

/** `podswarm.health`; without the label, a TCP connect to the first tcp port (a container's own port is ours to probe). */
export function parseHealth(text: string | undefined, ports: readonly ServicePort[]): HealthCheck | undefined {
  const m = HEALTH.exec(text ?? 'tcp');
  if (!m) throw new Error(`${LABEL_HEALTH}=${text}: expected tcp[:PORT-NAME], http:/PATH[@PORT-NAME] or none`);
  if (m[1]) return undefined;
  const named = m[2] ?? m[4];
  const port = named === undefined ? ports.find((p) => p.protocol === 'tcp') : ports.find((p) => p.name === named && p.protocol === 'tcp');
  if (named !== undefined && !port) throw new Error(`${LABEL_HEALTH}=${text}: no tcp port named '${named}' in ${LABEL_PORTS}`);
  if (!port) {
    if (text !== undefined) throw new Error(`${LABEL_HEALTH}=${text}: the container has no tcp port to check`);
    return undefined;
  }
  return m[3] === undefined ? { port: port.port } : { port: port.port, httpPath: m[3] };
}

const PORT = /^([^:]+):(\d{1,5})(?:\/(tcp|udp))?$/;

export function parsePorts(text: string): ServicePort[] {
  const ports: ServicePort[] = [];
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const m = PORT.exec(item);
    const port = Number(m?.[2]);
    if (!m || !isDnsLabel(m[1]!) || port < 1 || port > 65535) {
      throw new Error(`${LABEL_PORTS}: '${item}' is not name:port[/tcp|udp] (name a DNS label, port 1-65535)`);
    }
    if (ports.some((p) => p.name === m[1])) throw new Error(`${LABEL_PORTS}: port name '${m[1]}' is used twice`);
    ports.push({ name: m[1]!, port, protocol: (m[3] ?? 'tcp') as Protocol });
  }
  return ports;
}
