#!/usr/bin/env bash
# Builds localhost/podswarm-dns:latest (or $IMAGE) with podman, offline, from
# what is on this machine: see deploy/Containerfile. Builds the package first.
# An image whose content-hash label matches the staged rootfs is kept as it is
# (a rebuild takes a while and changes nothing); --force rebuilds anyway.
# Prints the image's ID on stdout, progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-localhost/podswarm-dns:latest}
force=${1:-}
say() { echo "build-image: $*" >&2; }

npm run build --silent >&2
stage=$(mktemp -d /tmp/psw-image.XXXXXX)
trap 'rm -rf "$stage"' EXIT
root=$stage/rootfs
mkdir -p "$root"/{etc/podswarm-dns,tmp,proc,sys,dev,run,var/lib/podswarm-dns,opt/podswarm-dns}
chmod 1777 "$root/tmp"

# A program and every shared library the dynamic loader maps for it, at the
# paths ldd reports (RUNPATHs, such as systemd's private library, keep working).
copy_program() {
  local lib
  install -D -m 0755 "$1" "$root$1"
  for lib in $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    [ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
}
node=$(readlink -f "$(command -v node)")
copy_program "$node"
# The entrypoint runs /usr/bin/node, wherever node lives on this machine.
[ -e "$root/usr/bin/node" ] || ln -s "$node" "$root/usr/bin/node"
# Readiness for Notify=true (src/server/sd-notify.ts runs it).
copy_program /usr/bin/systemd-notify
# `podswarm-dns setup link` (the Quadlet's ExecStartPre) puts the node address on lo with it.
copy_program "$(readlink -f "$(command -v ip)")"

# The package as `npm pack` ships it (package.json "files"), without
# declarations and source maps (and the comments naming the maps).
app=$root/opt/podswarm-dns
npm pack --dry-run --json --ignore-scripts 2>/dev/null |
  node -e 'for (const f of JSON.parse(require("fs").readFileSync(0, "utf8"))[0].files) if (!/\.(d\.ts|map)$/.test(f.path)) console.log(f.path)' |
  while read -r f; do install -D -m 0644 "$f" "$app/$f"; done
find "$app/dist" -name '*.js' -exec sed -i '/^\/\/# sourceMappingURL=/d' {} +
# Production dependencies only, from the installed tree (no registry needed).
npm ls --omit=dev --all --parseable | tail -n +2 | while read -r dir; do
  rel=${dir#"$PWD"/}
  mkdir -p "$app/$(dirname "$rel")"
  [ -e "$app/$rel" ] || cp -a "$dir" "$app/$rel"
done
find "$app/node_modules" \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -type f -delete

printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
# The default node Corefile, the one `podswarm-dns setup podman` writes for
# the default address; mount the node's own over /etc/podswarm-dns.
node --input-type=module -e "
  import { nodeCorefile } from './dist/src/setup/node-corefile.js';
  import { DEFAULT_ADDRESS } from './dist/src/setup/node-address.js';
  process.stdout.write(nodeCorefile({ addresses: [DEFAULT_ADDRESS], join: [] }));
" > "$root/etc/podswarm-dns/Corefile"

# Content hash: every path, mode, link target and file's bytes in the rootfs.
hash=$(cd "$root" && { find . -printf '%P %m %y %l\n' | LC_ALL=C sort; find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-32)
cp deploy/Containerfile "$stage/Containerfile"
hash=$(printf '%s %s' "$hash" "$(sha256sum < deploy/Containerfile)" | sha256sum | cut -c1-32)
if [ "$force" != --force ] && [ "$(podman image inspect --format '{{index .Labels "io.podswarm-dns.content-hash"}}' "$IMAGE" 2>/dev/null)" = "$hash" ]; then
  say "$IMAGE is up to date (content $hash)"
else
  say "building $IMAGE (content $hash, rootfs $(du -sh "$root" | cut -f1))"
  podman build --quiet --pull=never --build-arg CONTENT_HASH="$hash" -f "$stage/Containerfile" -t "$IMAGE" "$stage" >&2
fi
podman image inspect --format '{{.Id}}' "$IMAGE"
