#!/usr/bin/env bash
# The main job on a fresh machine: a Docker engine and the images if missing, the stack up,
# the candidate rolled out region by region, the result printed. The stack stays up for a
# look (`npx chaos-gate status`, http://127.0.0.1:9090); `npx chaos-gate down` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
version=${1:-v2}
bash scripts/ensure-docker.sh
bash scripts/prepare-images.sh
node bin/chaos-gate.js up
status=0
node bin/chaos-gate.js deploy "$version" ${2:+"$2"} || status=$?
node bin/chaos-gate.js status || true
exit $status
