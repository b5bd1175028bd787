#!/usr/bin/env bash
# The air-gapped path: builds local stand-ins for the official images this stack uses,
# from packages the machine's own registries serve (npm for Node 24, Debian for busybox and
# Prometheus), because `docker pull` cannot reach any registry here.
#   chaos-gate/node:24-offline        Node 24 + its shared libraries + busybox (/bin/sh)
#   chaos-gate/prometheus:offline     Debian's prometheus binary, same entrypoint as prom/prometheus
# Grafana has no package in either registry; the stack runs without it where no image exists.
# Idempotent: an image that already exists is kept unless --force is given.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
node_image=${CHAOS_GATE_OFFLINE_NODE_IMAGE:-chaos-gate/node:24-offline}
prom_image=${CHAOS_GATE_OFFLINE_PROMETHEUS_IMAGE:-chaos-gate/prometheus:offline}
force=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log() { echo "[offline-images] $*"; }
exists() { docker image inspect "$1" >/dev/null 2>&1; }

apt_fetch() { # $1 package -> extracted into $work/pkg-$1
  local pkg=$1
  mkdir -p "$work/deb" "$work/pkg-$pkg"
  if ! (cd "$work/deb" && apt-get download "$pkg" >/dev/null 2>&1); then
    apt-get update -qq >/dev/null
    (cd "$work/deb" && apt-get download "$pkg" >/dev/null)
  fi
  dpkg -x "$work"/deb/"${pkg}"_*.deb "$work/pkg-$pkg"
}

copy_libs() { # $1 binary, $2 rootfs: copies every shared library ldd lists, and the loader
  local bin=$1 root=$2
  ldd "$bin" | grep -oE '/[^ ]+' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

base_rootfs() { # $1 rootfs: busybox shell, users, tmp
  local root=$1
  apt_fetch busybox-static
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/usr/bin"
  chmod 1777 "$root/tmp"
  cp "$work/pkg-busybox-static/bin/busybox" "$root/bin/busybox"
  for tool in sh mkdir chown chmod ls cat rm cp mv ln sleep kill ps wget; do
    ln -sf busybox "$root/bin/$tool"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
  mkdir -p "$root/home/node" && chown 1000:1000 "$root/home/node"
}

if [ "$force" != "--force" ] && exists "$node_image"; then
  log "$node_image exists"
else
  node_bin=$("$here/node_modules/.bin/node" -p 'process.execPath' 2>/dev/null || true)
  if [ -z "$node_bin" ] || [ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" -lt 24 ]; then
    log "Node 24 not found at node_modules/.bin/node: run 'npm ci' first" >&2
    exit 3
  fi
  root="$work/node-rootfs"
  base_rootfs "$root"
  mkdir -p "$root/usr/local/bin"
  cp "$node_bin" "$root/usr/local/bin/node"
  copy_libs "$node_bin" "$root"
  log "importing $node_image (node $("$node_bin" --version))"
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    -c 'CMD ["node"]' - "$node_image" >/dev/null
fi

if [ "$force" != "--force" ] && exists "$prom_image"; then
  log "$prom_image exists"
else
  root="$work/prom-rootfs"
  base_rootfs "$root"
  apt_fetch prometheus
  cp "$work/pkg-prometheus/usr/bin/prometheus" "$root/bin/prometheus"
  cp "$work/pkg-prometheus/usr/bin/promtool" "$root/bin/promtool"
  copy_libs "$root/bin/prometheus" "$root"
  mkdir -p "$root/etc/prometheus" "$root/prometheus"
  chown 65534:65534 "$root/prometheus"
  log "importing $prom_image"
  tar -C "$root" -c . | docker import \
    -c 'USER nobody' \
    -c 'WORKDIR /prometheus' \
    -c 'ENTRYPOINT ["/bin/prometheus"]' \
    -c 'CMD ["--config.file=/etc/prometheus/prometheus.yml","--storage.tsdb.path=/prometheus"]' \
    - "$prom_image" >/dev/null
fi
log "ready: $node_image, $prom_image"
