#!/usr/bin/env bash
# The project's one test command (`npm test`; .ci/run calls it too). Static checks and unit
# tests first, then a Docker engine (installed and started if none answers), the images,
# and the integration tests against the live Compose stack. The stack is removed at the end
# whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

step() { echo; echo "=== $* ($(date -u +%H:%M:%S))"; }

step "node $(node --version)"
step typecheck; tsc --noEmit -p tsconfig.json
step lint; eslint .
step format; prettier --check --log-level warn .
step layers; node scripts/layers.mjs
step "bundles up to date"; node scripts/build.mjs --check
# Root here; GitHub runners are not root but have password-less sudo.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# promtool (Prometheus' own config and PromQL checker) for the observability unit tests,
# taken from Debian's or Ubuntu's prometheus package without installing its service.
step promtool
if ! command -v promtool >/dev/null 2>&1; then
  prom_pkg="$PWD/.cache/prometheus"
  if [ ! -x "$prom_pkg/usr/bin/promtool" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && { apt-get download prometheus >/dev/null 2>&1 || { as_root apt-get update -qq && apt-get download prometheus >/dev/null; }; })
    mkdir -p "$prom_pkg" && dpkg -x "$tmp"/prometheus_*.deb "$prom_pkg" && rm -rf "$tmp"
  fi
  export PATH="$prom_pkg/usr/bin:$PATH"
fi
echo "promtool: $(command -v promtool)"

step "unit tests"; vitest run --project unit
step chromium
if [ -z "${CHAOS_GATE_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ] && [ ! -x /usr/bin/google-chrome ]; then
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
step "browser tests"; vitest run --project browser

if [ "${CHAOS_GATE_SKIP_INTEGRATION:-}" = 1 ]; then echo "integration tests skipped (CHAOS_GATE_SKIP_INTEGRATION=1)"; exit 0; fi

step "docker engine"; bash scripts/ensure-docker.sh
step images; bash scripts/prepare-images.sh
cleanup() { node bin/chaos-gate.js down >/dev/null 2>&1 || true; }
trap cleanup EXIT
# One line in the CI log: the Compose the integration tests run with (chaos-gate prefers v2),
# and why v2 was not run when it was not (the README's "two commands" says more).
compose_note() {
  local v2
  if v2=$(docker compose version --short 2>/dev/null); then echo "compose: integration tests run with Compose v2 ${v2}"; return; fi
  echo "compose: integration tests run with Compose v1 $(docker-compose version --short 2>/dev/null || echo '?');" \
    "Compose v2 not run: this Docker client has no compose plugin (Debian 12 packages none, no npm package ships it)"
}
step "integration tests"; compose_note; vitest run --project integration
