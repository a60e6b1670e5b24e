// Registering endpoints through a running node's discovery API, and reading
// back what a node serves for a service (name → address, per source).

export interface ApiNode {
  /** `http://HOST:PORT/api/v1` */
  base: string;
  token: string;
}

export interface ServedEndpoint {
  name: string;
  nodeName: string;
  address: string;
  source: string;
}

/** PUT an endpoint; the HTTP status (fetch's rejection when the node is gone). */
export async function register(node: ApiNode, ns: string, svc: string, name: string, body: object): Promise<number> {
  const res = await fetch(`${node.base}/services/${ns}/${svc}/endpoints/${name}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

export async function deregister(node: ApiNode, ns: string, svc: string, name: string): Promise<number> {
  const res = await fetch(`${node.base}/services/${ns}/${svc}/endpoints/${name}`, { method: 'DELETE', headers: { authorization: `Bearer ${node.token}` } });
  await res.arrayBuffer();
  return res.status;
}

/** Every endpoint the node lists for the service (none when it does not know it). */
export async function served(node: Pick<ApiNode, 'base'>, ns: string, svc: string): Promise<ServedEndpoint[]> {
  const res = await fetch(`${node.base}/services/${ns}/${svc}/endpoints`);
  if (res.status === 404) {
    await res.arrayBuffer();
    return [];
  }
  if (res.status !== 200) throw new Error(`GET endpoints of ${ns}/${svc}: ${res.status} ${await res.text()}`);
  return (await res.json()) as ServedEndpoint[];
}

/** name → address of the endpoints from `source`, sorted by name (comparable as JSON). */
export function addressesFrom(eps: ServedEndpoint[], source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of [...eps].sort((a, b) => (a.name < b.name ? -1 : 1))) if (e.source === source) out[e.name] = e.address;
  return out;
}
