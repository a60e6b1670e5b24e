#!/usr/bin/env bash
# Installs what the tests need, only what is missing: Debian packages (dig,
# kdig, serf, podman, dnsmasq, the compiler npm ci builds the UDP addon with,
# ...), the podman configuration this machine needs, and the local busybox
# image. Run as root. Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# command-to-check:package pairs
NEED=(
  dig:bind9-dnsutils
  kdig:knot-dnsutils
  knotd:knot
  serf:serf
  podman:podman
  runc:runc
  /usr/lib/podman/netavark:netavark
  /usr/lib/podman/aardvark-dns:aardvark-dns
  newuidmap:uidmap
  slirp4netns:slirp4netns
  /usr/libexec/podman/catatonit:catatonit
  # podman-node's CNI-backend test: a recommend of podman, so --no-install-recommends skips it.
  /usr/lib/cni/bridge:containernetworking-plugins
  systemd-analyze:systemd
  nsenter:util-linux
  systemd-notify:systemd
  curl:curl
  python3:python3
  busybox:busybox-static
  dnsmasq:dnsmasq-base
  dnsperf:dnsperf
  ip:iproute2
  iptables:iptables
  tcpdump:tcpdump
  etcd:etcd-server
  etcdctl:etcd-client
  # native/udp-batch: node-gyp compiles with cc, links with c++, runs make (and python3, above).
  cc:gcc
  c++:g++
  make:make
  go:golang-go
  /usr/share/gocode/src/github.com/hashicorp/memberlist:golang-github-hashicorp-memberlist-dev
)
missing=()
for pair in "${NEED[@]}"; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  if [[ $cmd == /* ]]; then [ -x "$cmd" ] || missing+=("$pkg")
  else command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg"); fi
done

apt_install() {
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq || { sleep 5; apt-get update -qq; }
  apt_install "${missing[@]}" || { sleep 5; apt-get update -qq; apt_install "${missing[@]}"; }
fi

# The addon builds against the running Node's headers (NodeSource's nodejs ships them); npm ci
# does not fail without them, but the tests force the batch path and would.
node_headers="$(dirname "$(dirname "$(command -v node)")")/include/node/node_api.h"
[ -f "$node_headers" ] || echo "install-deps: warning: $node_headers is missing: the UDP addon cannot be built" >&2

bash "$(dirname "$0")/podman-image.sh"
echo "install-deps: ok ($(dig -v 2>&1 | head -1); $(serf version | head -1); $(podman --version); $(etcd --version | head -1))"
