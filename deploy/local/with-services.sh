#!/usr/bin/env bash
# Runs a command with a Kafka broker and a MongoDB wire-protocol server available.
#
# Reuses what already answers: KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI when set, or the local
# services when they already run. Otherwise, on a machine without a Docker engine, starts
# the local Kafka and FerretDB (deploy/local/services.sh) and stops exactly those
# afterwards. Where a Docker engine answers and nothing is configured, the tests use
# testcontainers instead, so nothing is started here.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICES="$HERE/services.sh"
started=()

cleanup() {
  local status=$?
  for name in "${started[@]}"; do "$SERVICES" stop "$name" || true; done
  exit "$status"
}
trap cleanup EXIT INT TERM

running() {  # read the whole status first: grep -q closing the pipe early would fail it
  local status; status="$("$SERVICES" status)"
  grep -q "^$1: running" <<<"$status"
}

if [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" || -z "${MONGODB_URI:-}" ]]; then
  if [[ "${BOUCLE_USE_TESTCONTAINERS:-auto}" != "never" ]] && docker info >/dev/null 2>&1; then
    echo "[with-services] Docker engine found: tests will use testcontainers" >&2
  else
    if [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
      running kafka || { "$SERVICES" start kafka; started+=(kafka); }
    fi
    if [[ -z "${MONGODB_URI:-}" ]]; then
      running ferretdb || { "$SERVICES" start mongo; started+=(mongo); }
    fi
    : "${KAFKA_BOOTSTRAP_SERVERS:=127.0.0.1:${BOUCLE_KAFKA_PORT:-9092}}"
    : "${MONGODB_URI:=mongodb://127.0.0.1:${BOUCLE_MONGO_PORT:-27017}/}"
    export KAFKA_BOOTSTRAP_SERVERS MONGODB_URI
  fi
fi
echo "[with-services] KAFKA_BOOTSTRAP_SERVERS=${KAFKA_BOOTSTRAP_SERVERS:-<testcontainers>} MONGODB_URI=${MONGODB_URI:-<testcontainers>}" >&2
"$@"
