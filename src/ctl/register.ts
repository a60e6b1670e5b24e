// `podswarm-dns register` / `deregister`: endpoints owned by the API (PUT and
// DELETE /api/v1/services/{ns}/{svc}/endpoints/{name}); both need the token.

import { isIP } from 'node:net';
import type { ServicePort } from '../client/types.js';
import { isDnsLabel } from '../registry/names.js';
import { API_OPTIONS, apiClient, callApi } from './api.js';
import { serviceArg } from './args.js';
import { API_HELP, COMMON_HELP, COMMON_OPTIONS, TOKEN_HELP, type Command } from './command.js';
import { EXIT, usageError } from './exit.js';
import { portsText } from './services.js';
import { printJson } from './table.js';

export const register: Command = {
  name: 'register',
  synopsis: 'podswarm-dns register NS/SVC NAME ADDRESS [--port NAME:PORT[/PROTO]]... [--node NODE] --token-file FILE',
  help: `Registers (or replaces) endpoint NAME of service SVC in namespace NS at ADDRESS,
for something that is not a Podman container. It lives until deregistered or the
node restarts, and is gossiped to every node.
  --port NAME:PORT[/PROTO]  a named port (repeatable; PROTO tcp or udp, default tcp);
                      without any, the endpoint takes the service's ports
  --node NODE         the node it runs on (default: the node that answers)
${TOKEN_HELP}
${API_HELP}
${COMMON_HELP}`,
  options: { ...COMMON_OPTIONS, ...API_OPTIONS, port: 'list', node: 'value' },
  args: { min: 3, max: 3 },
  async run(p, out) {
    const { namespace, service } = serviceArg(p.args[0]);
    const [, name, address] = p.args as [string, string, string];
    if (isIP(address) === 0) throw usageError(`'${address}' is not an IPv4 or IPv6 address`);
    const ports = p.lists.get('port')?.map(parsePort);
    const nodeName = p.values.get('node');
    const e = await callApi(apiClient(p), p, (c) => c.register(service, namespace, name, { address, ports, nodeName }));
    if (out.json) printJson(out, e);
    else out.line(`registered ${namespace}/${service} endpoint ${e.name}: ${e.address} ${portsText(e.ports)} on node ${e.nodeName}`);
    return EXIT.OK;
  },
};

export const deregister: Command = {
  name: 'deregister',
  synopsis: 'podswarm-dns deregister NS/SVC NAME --token-file FILE',
  help: `Removes endpoint NAME of service SVC in namespace NS, registered with \`register\`
(or the API). Exit 3 if there is no such endpoint; exit 4 if it comes from
elsewhere (Podman, a registry file, another node).
${TOKEN_HELP}
${API_HELP}
${COMMON_HELP}`,
  options: { ...COMMON_OPTIONS, ...API_OPTIONS },
  args: { min: 2, max: 2 },
  async run(p, out) {
    const { namespace, service } = serviceArg(p.args[0]);
    const name = p.args[1]!;
    await callApi(apiClient(p), p, (c) => c.deregister(service, namespace, name));
    if (out.json) printJson(out, { namespace, service, name, deregistered: true });
    else out.line(`deregistered ${namespace}/${service} endpoint ${name}`);
    return EXIT.OK;
  },
};

function parsePort(text: string): ServicePort {
  const m = /^([^:]+):(\d{1,5})(?:\/(tcp|udp))?$/i.exec(text);
  const port = Number(m?.[2]);
  if (!m || !isDnsLabel(m[1]!) || port < 1 || port > 65535) {
    throw usageError(`--port '${text}': expected NAME:PORT[/tcp|udp], NAME a DNS label (e.g. http:8080/tcp)`);
  }
  return { name: m[1]!, port, protocol: (m[3]?.toLowerCase() ?? 'tcp') as ServicePort['protocol'] };
}
