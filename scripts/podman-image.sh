#!/usr/bin/env bash
# Podman on these machines: runc (crun fails on the hybrid cgroup setup),
# explicit ulimits (CAP_SYS_RESOURCE is missing), and a local busybox image
# (no image registry is reachable). See shared/reference/machine.md.
#
# The settings go into a drop-in of their own, which Podman (4.x reads
# /etc/containers/containers.conf.d/*.conf after containers.conf) merges key
# by key over the user's files: containers.conf is never written, so none of
# the user's keys (dns_servers, say) is lost. Remove the drop-in to undo.
set -euo pipefail
DROPIN_DIR=/etc/containers/containers.conf.d
DROPIN=$DROPIN_DIR/10-podswarm-dev.conf
want='# Written by podswarm-dns scripts/podman-image.sh: what Podman needs on this
# machine (runc; explicit ulimits because CAP_SYS_RESOURCE is missing).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"'
if [ "$(cat "$DROPIN" 2>/dev/null)" != "$want" ]; then
  mkdir -p "$DROPIN_DIR"
  printf '%s\n' "$want" > "$DROPIN.tmp" && mv "$DROPIN.tmp" "$DROPIN"
  echo "podman-image: wrote $DROPIN"
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
