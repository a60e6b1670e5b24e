// Every compiled-in plugin, in execution order (CoreDNS plugin.cfg). The
// order here, not the order in the Corefile, decides who sees a query first.
// Plugins that only start services (no handler) sit where CoreDNS puts theirs.
// `containers` (not in CoreDNS) sits before `cache`: its answers depend on who
// asks, and the cache keys by question only. So does `autopath` (CoreDNS puts
// its own after cache), before `containers` so the names it walks reach it.

import type { PluginDef } from './plugin.js';
import { plugin as reload } from '../../plugins/reload/setup.js';
import { plugin as bufsize } from '../../plugins/bufsize/setup.js';
import { plugin as bind } from '../../plugins/bind/setup.js';
import { plugin as gossip } from '../../plugins/gossip/setup.js';
import { plugin as etcd } from '../../plugins/etcd/setup.js';
import { plugin as healthcheck } from '../../plugins/healthcheck/setup.js';
import { plugin as api } from '../../plugins/api/setup.js';
import { plugin as podman } from '../../plugins/podman/setup.js';
import { plugin as kube } from '../../plugins/kube/setup.js';
import { plugin as ready } from '../../plugins/ready/setup.js';
import { plugin as health } from '../../plugins/health/setup.js';
import { plugin as prometheus } from '../../plugins/prometheus/setup.js';
import { plugin as errors } from '../../plugins/errors/setup.js';
import { plugin as log } from '../../plugins/log/setup.js';
import { plugin as any } from '../../plugins/any/setup.js';
import { plugin as loadbalance } from '../../plugins/loadbalance/setup.js';
import { plugin as rewrite } from '../../plugins/rewrite/setup.js';
import { plugin as acl } from '../../plugins/acl/setup.js';
import { plugin as autopath } from '../../plugins/autopath/setup.js';
import { plugin as containers } from '../../plugins/containers/setup.js';
import { plugin as cache } from '../../plugins/cache/setup.js';
import { plugin as hosts } from '../../plugins/hosts/setup.js';
import { plugin as srv } from '../../plugins/srv/setup.js';
import { plugin as cluster } from '../../plugins/cluster/setup.js';
import { plugin as loop } from '../../plugins/loop/setup.js';
import { plugin as forward } from '../../plugins/forward/setup.js';
import { plugin as whoami } from '../../plugins/whoami/setup.js';

export const PLUGINS: readonly PluginDef[] = [
  // The server itself.
  reload, // re-reads the Corefile when it changes
  bufsize, // the UDP payload size advertised and truncated at
  bind, // the addresses the block listens on

  // Node services: membership, registry sources, HTTP endpoints. All but
  // prometheus are control plugins (with -workers N, once, in the primary).
  gossip, // membership and registry replication
  etcd, // the registry on etcd, instead of gossip
  healthcheck, // checks of the endpoints this node owns
  api, // the discovery HTTP API
  podman, // registry source: this node's labelled containers
  kube, // registry source: the Services of the kube YAML this node plays
  ready, // GET /ready
  health, // GET /health
  prometheus, // /metrics and the per-query metrics of the block

  // Seeing every query as it came in, and shaping it before anything answers.
  errors,
  log,
  any, // RFC 8482 minimal ANY answers
  loadbalance, // shuffles the A, AAAA and MX records of replies from below
  rewrite,
  acl,

  // Answers that depend on who asks: above cache, which keys by question only.
  autopath, // walks the search path, so the names it builds reach containers
  containers,

  cache,

  // Answers from our own data.
  hosts,
  srv, // SRV for named ports; passes every other query to cluster
  cluster, // the registry's zones

  // Everything else goes upstream.
  loop, // halts on a forwarding loop before forward sends one
  forward,
  whoami, // the client's own address, for what reaches it
];

export function findPlugin(name: string): PluginDef | undefined {
  return PLUGINS.find((p) => p.name === name);
}
