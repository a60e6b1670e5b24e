// The container labels that make a Podman container a service endpoint:
//   podswarm.service=api                          (required)
//   podswarm.namespace=default                    (default: default)
//   podswarm.ports=http:8080/tcp,grpc:50051/tcp   (name:port[/tcp|udp], comma-separated)

import { isDnsLabel } from '../../registry/names.js';
import type { Protocol, ServicePort } from '../../registry/types.js';

export const LABEL_SERVICE = 'podswarm.service';
export const LABEL_NAMESPACE = 'podswarm.namespace';
export const LABEL_PORTS = 'podswarm.ports';

export interface ServiceLabels {
  service: string;
  namespace: string;
  ports: ServicePort[];
}

/** The labels' meaning; undefined when the container is not a service; throws with the bad label's text. */
export function parseLabels(labels: Record<string, string> | null | undefined): ServiceLabels | undefined {
  const service = labels?.[LABEL_SERVICE];
  if (service === undefined) return undefined;
  if (!isDnsLabel(service)) throw new Error(`${LABEL_SERVICE}=${service}: not a DNS label (lowercase letters, digits, '-')`);
  const namespace = labels![LABEL_NAMESPACE] ?? 'default';
  if (!isDnsLabel(namespace)) throw new Error(`${LABEL_NAMESPACE}=${namespace}: not a DNS label (lowercase letters, digits, '-')`);
  return { service, namespace, ports: parsePorts(labels![LABEL_PORTS] ?? '') };
}

const PORT = /^([^:]+):(\d{1,5})(?:\/(tcp|udp))?$/;

export function parsePorts(text: string): ServicePort[] {
  const ports: ServicePort[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
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
