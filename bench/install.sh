#!/usr/bin/env bash
# Installs what bench/ needs when it is missing (Debian): dnsperf/resperf,
# knot, unbound, dnsmasq, and podman for aardvark-dns. Run as root.
set -euo pipefail

need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v resperf >/dev/null || need+=(dnsperf)
command -v knotd >/dev/null || need+=(knot)
command -v unbound >/dev/null || need+=(unbound)
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
command -v taskset >/dev/null || need+=(util-linux)
[ -x /usr/lib/podman/aardvark-dns ] || need+=(aardvark-dns)

if [ ${#need[@]} -eq 0 ]; then
  echo "bench: everything is installed"
  exit 0
fi
# Unique names, for the message and apt.
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
echo "bench: installing ${need[*]}"

export DEBIAN_FRONTEND=noninteractive
# Once, and once more if the mirror failed.
apt-get update -qq || { sleep 5; apt-get update -qq; }
# knot and unbound start their system services on install; the benchmark runs its own copies.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${need[@]}" || { sleep 5; apt-get install -y -qq --no-install-recommends "${need[@]}"; }
