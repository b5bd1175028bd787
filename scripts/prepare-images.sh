#!/usr/bin/env bash
# Makes the base images the stack builds from available: the official ones where a registry
# answers (GitHub runners), otherwise the air-gapped stand-ins built from local packages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
need_offline=0
pg_image=${CHAOS_GATE_POSTGRES_IMAGE:-postgres:15}
for image in "${CHAOS_GATE_NODE_IMAGE:-node:24-alpine}" "${CHAOS_GATE_PROMETHEUS_IMAGE:-prom/prometheus:v2.53.2}" "$pg_image"; do
  if docker image inspect "$image" >/dev/null 2>&1; then continue; fi
  if timeout 300 docker pull -q "$image" >/dev/null 2>&1; then
    echo "[prepare-images] pulled $image"
  else
    echo "[prepare-images] $image cannot be pulled here: using the air-gapped path"
    need_offline=1
  fi
done
if [ "$need_offline" = 1 ]; then
  bash "$here/offline-images.sh"
  # A user's dependencies file names postgres:15: give the stand-in that name so it runs unchanged.
  # (node:24-alpine is tagged by the gate itself when it builds; see standInTag.)
  pg_offline=${CHAOS_GATE_OFFLINE_POSTGRES_IMAGE:-chaos-gate/postgres:15-offline}
  if ! docker image inspect "$pg_image" >/dev/null 2>&1; then
    docker tag "$pg_offline" "$pg_image"
    echo "[prepare-images] tagged the stand-in $pg_offline as $pg_image (not the official image)"
  fi
fi
