#!/usr/bin/env bash
# Podman on these machines: runc (crun fails on the hybrid cgroup setup),
# explicit ulimits (CAP_SYS_RESOURCE is missing), and a local busybox image
# (no image registry is reachable). See shared/reference/machine.md.
set -euo pipefail
mkdir -p /etc/containers
if ! grep -q 'runtime = "runc"' /etc/containers/containers.conf 2>/dev/null; then
  cat > /etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
CONF
fi
if ! podman image exists localhost/busybox:latest; then
  root=$(mktemp -d)
  mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,root,usr}
  cp "$(command -v busybox)" "$root/bin/busybox"
  for a in $("$root/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
  ln -s ../bin "$root/usr/bin"; ln -s bin "$root/sbin"
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"; echo 'root:x:0:' > "$root/etc/group"
  tar -C "$root" -cf "$root.tar" . && podman import --change 'CMD ["/bin/sh"]' "$root.tar" localhost/busybox:latest >/dev/null
  rm -rf "$root" "$root.tar"
fi
