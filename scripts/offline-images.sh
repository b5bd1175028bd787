#!/usr/bin/env bash
# The air-gapped path: builds local stand-ins for the official images this stack uses,
# from packages the machine's own registries serve (npm for Node 24, Debian for busybox and
# Prometheus), because `docker pull` cannot reach any registry here.
#   chaos-gate/node:24-offline        Node 24 + its shared libraries + busybox (/bin/sh)
#   chaos-gate/prometheus:offline     Debian's prometheus binary, same entrypoint as prom/prometheus
#   chaos-gate/postgres:15-offline    Debian's postgresql-15 with an initialised cluster, run like postgres:15
#                                     (always trust auth, as POSTGRES_HOST_AUTH_METHOD=trust; STOPSIGNAL SIGINT)
# Grafana has no package in either registry; the stack runs without it where no image exists.
# Idempotent: an image that already exists is kept unless --force is given.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
node_image=${CHAOS_GATE_OFFLINE_NODE_IMAGE:-chaos-gate/node:24-offline}
prom_image=${CHAOS_GATE_OFFLINE_PROMETHEUS_IMAGE:-chaos-gate/prometheus:offline}
pg_image=${CHAOS_GATE_OFFLINE_POSTGRES_IMAGE:-chaos-gate/postgres:15-offline}
force=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log() { echo "[offline-images] $*"; }
exists() { docker image inspect "$1" >/dev/null 2>&1; }

apt_download() { # $1 package -> $work/deb/$1_*.deb
  local pkg=$1
  mkdir -p "$work/deb"
  if compgen -G "$work/deb/${pkg}_*.deb" >/dev/null; then return 0; fi
  if ! (cd "$work/deb" && apt-get download "$pkg" >/dev/null 2>&1); then
    apt-get update -qq >/dev/null
    (cd "$work/deb" && apt-get download "$pkg" >/dev/null)
  fi
}

apt_fetch() { # $1 package -> extracted into $work/pkg-$1
  local pkg=$1
  apt_download "$pkg"
  mkdir -p "$work/pkg-$pkg"
  dpkg -x "$work"/deb/"${pkg}"_*.deb "$work/pkg-$pkg"
}

# Library folders of packages fetched (not installed) for their shared libraries: ldd looks
# there too, and copy_libs puts what it finds there where the package would install it.
fetched_lib_path=

copy_libs() { # $1 binary, $2 rootfs: copies every shared library ldd lists, and the loader
  local bin=$1 root=$2
  # A module that needs no library (auth_delay.so) gives no path: not an error.
  { LD_LIBRARY_PATH=$fetched_lib_path ldd "$bin" | grep -oE '/[^ ]+' || true; } | while read -r lib; do
    local dest=$lib
    if [[ $lib == "$work"/pkg-* ]]; then dest=/${lib#"$work"/pkg-*/}; fi
    mkdir -p "$root$(dirname "$dest")"
    cp -L "$lib" "$root$dest"
  done
}

missing_libs() { # $@ ELF files -> the sonames ldd finds neither on the host nor in fetched packages
  local f
  for f in "$@"; do
    LD_LIBRARY_PATH=$fetched_lib_path ldd "$f" 2>/dev/null | awk '/=> not found/ {print $1}'
  done | sort -u
}

fetch_provider() { # $1 soname, $2.. candidate packages: fetches the candidate whose .deb holds it
  local so=$1 stem pkg base; shift
  stem=$(echo "${so%%.so*}" | tr 'A-Z_' 'a-z-')
  # Debian names library packages after the soname (libicuuc.so.72 -> libicu72,
  # libldap-2.5.so.0 -> libldap-2.5-0): look in those first, then in the others.
  for pkg in "$@"; do
    base=$(echo "$pkg" | sed -E 's/[-0-9.]*[a-z]?$//')
    if [[ $pkg == "$stem"* || ( ${#base} -ge 4 && $stem == "$base"* ) ]]; then echo "0 $pkg"; else echo "1 $pkg"; fi
  done | sort | while read -r _ pkg; do
    apt_download "$pkg" 2>/dev/null || continue
    # grep without -q reads the whole listing: an early exit would fail dpkg -c with SIGPIPE (pipefail).
    if dpkg -c "$work"/deb/"${pkg}"_*.deb | grep -E "/${so//./\\.}( |\$)" >/dev/null; then
      apt_fetch "$pkg"
      echo "$pkg"
      return 0
    fi
  done
}

resolve_libs() { # $1 packages whose library dependencies are looked in, $2.. ELF files
  # A fresh machine lacks libraries postgres needs (libicu, libxml2, libpq...): fetch the package
  # of each soname ldd cannot find, among the library dependencies of the packages, until none is missing.
  local pkgs=$1 round so candidates=() found; shift
  for round in 1 2 3 4 5 6 7 8; do
    mapfile -t missing < <(missing_libs "$@")
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ ${#candidates[@]} -eq 0 ]; then
      # shellcheck disable=SC2086 # $pkgs is a list of package names
      mapfile -t candidates < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances $pkgs 2>/dev/null | grep -E '^(lib|zlib)[^ <]*$' | sort -u)
    fi
    for so in "${missing[@]}"; do
      found=$(fetch_provider "$so" "${candidates[@]}")
      if [ -z "$found" ]; then log "no package among the dependencies of $pkgs provides $so" >&2; return 1; fi
      log "fetched $found for $so (round $round)"
    done
    fetched_lib_path=$(find "$work"/pkg-* -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
  done
  log "still missing after $round rounds: ${missing[*]}" >&2
  return 1
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
if [ "$force" != "--force" ] && exists "$pg_image"; then
  log "$pg_image exists"
else
  if [ "$(id -u)" != 0 ]; then log "building $pg_image runs initdb in a chroot: run as root" >&2; exit 3; fi
  root="$work/pg-rootfs"
  base_rootfs "$root"
  printf 'postgres:x:999:999:postgres:/var/lib/postgresql:/bin/sh\n' >>"$root/etc/passwd"
  printf 'postgres:x:999:\n' >>"$root/etc/group"
  # Server, client (psql, pg_isready) and libpq, from the same Debian release as the host.
  for pkg in postgresql-15 postgresql-client-15 libpq5 tzdata; do apt_fetch "$pkg"; done
  pg=/usr/lib/postgresql/15
  mkdir -p "$root$pg/bin" "$root$pg/lib" "$root/usr/share/postgresql" "$root/usr/share/zoneinfo/Etc"
  cp "$work/pkg-postgresql-15$pg/bin/"{postgres,initdb,pg_ctl} "$root$pg/bin/"
  cp "$work/pkg-postgresql-client-15$pg/bin/"{psql,pg_isready} "$root$pg/bin/"
  # Extensions (plpgsql, pgcrypto...) but not the LLVM JIT: without llvmjit.so postgres runs
  # without JIT, as it says, and the image stays ~100 MB smaller.
  cp -a "$work/pkg-postgresql-15$pg/lib/." "$root$pg/lib/"
  rm -rf "$root$pg/lib/"{llvmjit.so,llvmjit_types.bc,bitcode,pgxs}
  cp -a "$work/pkg-postgresql-15/usr/share/postgresql/15" "$root/usr/share/postgresql/"
  # Debian's postgres reads the system's tz database: UTC is the zone the cluster runs in.
  for tz in UTC Etc/UTC GMT Etc/GMT; do cp -L "$work/pkg-tzdata/usr/share/zoneinfo/$tz" "$root/usr/share/zoneinfo/$tz"; done
  cp -a "$work/pkg-libpq5/usr/lib/." "$root/usr/lib/"
  fetched_lib_path=$(find "$work"/pkg-* -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
  elfs=("$root$pg/bin/"* "$root$pg/lib/"*.so)
  resolve_libs "postgresql-15 postgresql-client-15 libpq5" "${elfs[@]}"
  for f in "${elfs[@]}"; do copy_libs "$f" "$root"; done
  for tool in postgres initdb pg_ctl psql pg_isready; do ln -sf "$pg/bin/$tool" "$root/usr/bin/$tool"; done
  # The socket folder Debian's build uses (also pg_isready's and psql's default).
  mkdir -p "$root/var/run/postgresql" "$root/var/lib/postgresql/data"
  chown 999:999 "$root/var/run/postgresql" "$root/var/lib/postgresql" "$root/var/lib/postgresql/data"
  chmod 3777 "$root/var/run/postgresql"
  chmod 700 "$root/var/lib/postgresql/data"
  # The cluster is initialised here, as the official image does on first start, so a fresh named
  # volume gets it copied in. Run inside the rootfs: a missing library fails the build, not the user.
  mkdir -p "$root/dev" && mkdir -m 1777 "$root/dev/shm" && mknod -m 666 "$root/dev/null" c 1 3
  TZ=UTC chroot --userspec=999:999 "$root" /usr/bin/initdb -D /var/lib/postgresql/data -U postgres \
    --locale=C -E UTF8 --auth=trust >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; exit 1; }
  rm -rf "${root:?}/dev"
  # Like the official image with POSTGRES_HOST_AUTH_METHOD=trust: any address, no password.
  # fsync, full_page_writes and synchronous_commit keep their (safe) defaults.
  printf "\n# chaos-gate stand-in for postgres:15\nlisten_addresses = '*'\n" >>"$root/var/lib/postgresql/data/postgresql.conf"
  printf 'host all all all trust\n' >>"$root/var/lib/postgresql/data/pg_hba.conf"
  log "importing $pg_image (postgresql-15 $(dpkg-deb -f "$work"/deb/postgresql-15_*.deb Version))"
  tar -C "$root" -c . | docker import \
    -c "ENV PATH=$pg/bin:/usr/local/bin:/usr/bin:/bin" \
    -c 'ENV PGDATA=/var/lib/postgresql/data' \
    -c 'ENV LANG=C.UTF-8' \
    -c 'USER postgres' \
    -c 'EXPOSE 5432' \
    -c 'VOLUME /var/lib/postgresql/data' \
    -c 'CMD ["postgres","-D","/var/lib/postgresql/data"]' \
    - "$pg_image-import" >/dev/null
  # docker import refuses STOPSIGNAL; a one-line build adds it (nothing is pulled or run). SIGINT
  # is postgres's fast shutdown; SIGTERM (docker's default) waits for clients to disconnect.
  printf 'FROM %s\nSTOPSIGNAL SIGINT\n' "$pg_image-import" | docker build -q -t "$pg_image" - >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; exit 1; }
  docker rmi "$pg_image-import" >/dev/null
fi
log "ready: $node_image, $prom_image, $pg_image"
