#!/usr/bin/env bash
# Installs what the tests need, only what is missing: Debian packages (dig,
# kdig, serf, podman, dnsmasq, ...), the podman configuration this machine
# needs, and the local busybox image. Run as root. Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# command-to-check:package pairs
NEED=(
  dig:bind9-dnsutils
  kdig:knot-dnsutils
  serf:serf
  podman:podman
  runc:runc
  /usr/lib/podman/netavark:netavark
  /usr/lib/podman/aardvark-dns:aardvark-dns
  newuidmap:uidmap
  slirp4netns:slirp4netns
  /usr/libexec/podman/catatonit:catatonit
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

bash "$(dirname "$0")/podman-image.sh"
echo "install-deps: ok ($(dig -v 2>&1 | head -1); $(serf version | head -1); $(podman --version))"
