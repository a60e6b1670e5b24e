// `podswarm-dns services [NS]` and `endpoints NS/SVC`: the registry as this
// node serves it, through the same API routes programs use.

import type { ServicePort } from '../client/types.js';
import { API_OPTIONS, apiClient, callApi } from './api.js';
import { serviceArg } from './args.js';
import { API_HELP, COMMON_HELP, COMMON_OPTIONS, type Command } from './command.js';
import { EXIT } from './exit.js';
import { printJson, table } from './table.js';

/** `name:port/proto`, the syntax `register --port` takes. */
export const portsText = (ports: readonly ServicePort[]): string => ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(',') || '-';

export const services: Command = {
  name: 'services',
  synopsis: 'podswarm-dns services [NS] [--api URL] [--json]',
  help: `Lists the services of every namespace, or of namespace NS (exit 3 if it has none):
ports, number of endpoints and of healthy ones.
${API_HELP}
${COMMON_HELP}`,
  options: { ...COMMON_OPTIONS, api: API_OPTIONS.api },
  args: { min: 0, max: 1 },
  async run(p, out) {
    const list = await callApi(apiClient(p), p, (c) => c.listServices(p.args[0]));
    if (out.json) {
      printJson(out, list);
      return EXIT.OK;
    }
    const rows = list.map((s) => [s.namespace, s.name, portsText(s.ports), String(s.endpoints), String(s.healthyEndpoints)]);
    for (const l of table(['NAMESPACE', 'NAME', 'PORTS', 'ENDPOINTS', 'HEALTHY'], rows)) out.line(l);
    return EXIT.OK;
  },
};

export const endpoints: Command = {
  name: 'endpoints',
  synopsis: 'podswarm-dns endpoints NS/SVC [--healthy] [--api URL] [--json]',
  help: `Lists the endpoints of service SVC in namespace NS (exit 3 if there is no such
service): address, ports, health, the node that hosts it, and the source this
node has it from (api, file:PATH, podman:SOCKET, gossip:NODE).
  --healthy           only healthy endpoints
${API_HELP}
${COMMON_HELP}`,
  options: { ...COMMON_OPTIONS, api: API_OPTIONS.api, healthy: 'flag' },
  args: { min: 1, max: 1 },
  async run(p, out) {
    const { namespace, service } = serviceArg(p.args[0]);
    const list = await callApi(apiClient(p), p, (c) => c.getServiceEndpoints(service, namespace, p.flags.has('healthy')));
    if (out.json) {
      printJson(out, list);
      return EXIT.OK;
    }
    const rows = list.map((e) => [e.name, e.address, portsText(e.ports), e.healthy ? 'healthy' : 'unhealthy', e.nodeName, e.source ?? '-']);
    for (const l of table(['NAME', 'ADDRESS', 'PORTS', 'HEALTH', 'NODE', 'SOURCE'], rows)) out.line(l);
    return EXIT.OK;
  },
};
