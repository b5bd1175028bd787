#!/usr/bin/env bash
# Makes the base images the stack builds from available: the official ones where a registry
# answers (GitHub runners), otherwise the air-gapped stand-ins built from local packages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
need_offline=0
for image in "${CHAOS_GATE_NODE_IMAGE:-node:24-alpine}" "${CHAOS_GATE_PROMETHEUS_IMAGE:-prom/prometheus:v2.53.2}"; do
  if docker image inspect "$image" >/dev/null 2>&1; then continue; fi
  if timeout 300 docker pull -q "$image" >/dev/null 2>&1; then
    echo "[prepare-images] pulled $image"
  else
    echo "[prepare-images] $image cannot be pulled here: using the air-gapped path"
    need_offline=1
  fi
done
if [ "$need_offline" = 1 ]; then bash "$here/offline-images.sh"; fi
