#!/usr/bin/env bash
# Runs a command with a Kafka broker, a MongoDB wire-protocol server, an OpenID Connect
# provider and an SMTP server with an inbox API available.
#
# Reuses what already answers: KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI / OIDC_ISSUER_URL /
# MAILPIT_API_URL when set, or the local services when they already run. Otherwise, on a
# machine without a Docker engine, starts the local Kafka and FerretDB (deploy/local/services.sh)
# and stops exactly those afterwards. Where a Docker engine answers and nothing is configured,
# the tests use testcontainers for Kafka and MongoDB, so those are not started here. The
# OIDC provider and Mailpit have no container counterpart: they are started (and stopped
# after) whenever their variables are unset.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICES="$HERE/services.sh"
started=()

cleanup() {
  local status=$?
  # BOUCLE_KEEP_SERVICES=1 (make demo KEEP_RUNNING=1): a command that succeeded leaves what
  # it runs on up, as the services it left running need Kafka and FerretDB.
  if [[ "${BOUCLE_KEEP_SERVICES:-}" == 1 && "$status" == 0 && ${#started[@]} -gt 0 ]]; then
    echo "[with-services] left running: ${started[*]} (stop: deploy/local/services.sh stop)" >&2
    exit 0
  fi
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
if [[ -z "${OIDC_ISSUER_URL:-}" ]]; then
  running oidc || { "$SERVICES" start oidc; started+=(oidc); }
  OIDC_ISSUER_URL="http://127.0.0.1:${BOUCLE_OIDC_PORT:-5556}"
  export OIDC_ISSUER_URL OIDC_JWKS_URL="$OIDC_ISSUER_URL/keys"
fi
if [[ -z "${MAILPIT_API_URL:-}" ]]; then
  running mailpit || { "$SERVICES" start mail; started+=(mail); }
  export SMTP_HOST=127.0.0.1 SMTP_PORT="${BOUCLE_SMTP_PORT:-1025}" \
    MAILPIT_API_URL="http://127.0.0.1:${BOUCLE_MAILPIT_PORT:-8025}"
fi
echo "[with-services] OIDC_ISSUER_URL=$OIDC_ISSUER_URL SMTP=${SMTP_HOST:-?}:${SMTP_PORT:-?} MAILPIT_API_URL=$MAILPIT_API_URL" >&2
echo "[with-services] KAFKA_BOOTSTRAP_SERVERS=${KAFKA_BOOTSTRAP_SERVERS:-<testcontainers>} MONGODB_URI=${MONGODB_URI:-<testcontainers>}" >&2
"$@"
