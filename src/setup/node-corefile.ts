// The Corefile `setup podman` writes for a node when there is none yet: the
// Kubernetes-default layout (as Corefile.example) listening on the node's
// DNS address, with the Podman plugins, and gossip when the node joins a cluster.

import { bracketHost } from '../util/hostport.js';

export const DEFAULT_COREFILE = '/etc/podswarm-dns/Corefile';

export interface NodeCorefileOptions {
  addresses: string[];
  /** gossip `bind` (this node's cluster address); no gossip block when unset. */
  gossipBind?: string;
  join: string[];
  podmanSocket?: string;
}

export function nodeCorefile(o: NodeCorefileOptions): string {
  const socket = (plugin: string): string => (o.podmanSocket ? `${plugin} {\n        socket ${o.podmanSocket}\n    }` : plugin);
  const podman = socket('podman');
  // Podman's own container names, which containers no longer get from aardvark-dns.
  const containers = socket('containers');
  const gossip = o.gossipBind
    ? [`gossip {`, `        bind ${o.gossipBind}`, ...(o.join.length > 0 ? [`        join ${o.join.join(' ')}`] : []), `    }`].join('\n')
    : undefined;
  const shown = o.addresses.map(bracketHost).join(', ');
  return [
    `# This node's DNS: containers reach it on ${shown} port 53 (containers.conf`,
    `# dns_servers, set by \`podswarm-dns setup podman\`). Every plugin's README`,
    `# documents its syntax. Edit freely: setup never overwrites this file.`,
    `.:53 {`,
    `    bind ${o.addresses.join(' ')}`,
    `    errors`,
    `    health 127.0.0.1:8081 {`,
    `        lameduck 5s`,
    `    }`,
    `    ready 127.0.0.1:8181`,
    `    ${podman}`,
    `    ${containers}`,
    `    healthcheck`,
    ...(gossip ? [`    ${gossip}`] : []),
    `    api {`,
    `        listen 127.0.0.1:8080`,
    `    }`,
    `    cluster cluster.local in-addr.arpa ip6.arpa {`,
    `        fallthrough in-addr.arpa ip6.arpa`,
    `    }`,
    `    srv cluster.local`,
    `    prometheus 127.0.0.1:9153`,
    `    forward . /etc/resolv.conf`,
    `    cache`,
    `    loop`,
    `    reload`,
    `    loadbalance`,
    `}`,
    ``,
  ].join('\n');
}
