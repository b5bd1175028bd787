#!/usr/bin/env bash
# Makes sure a Docker engine answers and that Compose (v2 plugin or v1 binary) exists.
# On a machine with no daemon (these CI machines), installs Debian's docker.io and
# docker-compose and starts dockerd in the background. Idempotent.
set -euo pipefail

log() { echo "[ensure-docker] $*"; }

have_compose() {
  docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1
}

if docker info >/dev/null 2>&1 && have_compose; then
  log "engine answers; compose present"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! have_compose; then
  if [ "$(id -u)" != "0" ]; then
    log "no Docker engine and not root: install Docker and Compose, then retry" >&2
    exit 3
  fi
  log "installing docker.io and docker-compose from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io docker-compose >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: /var/log/dockerd.log)"
  # The Debian package installs its own client at /usr/bin/docker; either client works.
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  deadline=$((SECONDS + 120))
  until docker info >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "dockerd did not answer within 120 s; last log lines:" >&2
      tail -n 30 /var/log/dockerd.log >&2 || true
      exit 3
    fi
    sleep 1
  done
fi
log "engine $(docker version --format '{{.Server.Version}}') answers"
