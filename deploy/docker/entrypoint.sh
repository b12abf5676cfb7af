#!/bin/sh
# Container entrypoint for every Boucle service image (see Dockerfile.service).
#
# Each service reads its settings from BOUCLE_<SERVICE>_*; the service name is only
# known at build time (BOUCLE_SERVICE), so the container-specific defaults are set
# here rather than with ENV:
#   BOUCLE_<SERVICE>_HTTP_HOST  0.0.0.0 (the service's own default, 127.0.0.1, is
#                               unreachable from outside the container)
#   BOUCLE_<SERVICE>_HTTP_PORT  the port the image EXPOSEs (BOUCLE_DEFAULT_HTTP_PORT)
# Values already in the environment win. Then exec: the service replaces this shell
# as PID 1 and receives SIGTERM directly.
set -eu

service="${BOUCLE_SERVICE:-}"
case "$service" in
  collector|analyzer|actions|reporter) ;;
  *) echo "entrypoint: BOUCLE_SERVICE must be collector|analyzer|actions|reporter (got '$service')" >&2
     exit 64 ;;
esac

prefix="BOUCLE_$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')_"

if [ -z "$(printenv "${prefix}HTTP_HOST" || true)" ]; then
  export "${prefix}HTTP_HOST=0.0.0.0"
fi
if [ -z "$(printenv "${prefix}HTTP_PORT" || true)" ] && [ -n "${BOUCLE_DEFAULT_HTTP_PORT:-}" ]; then
  export "${prefix}HTTP_PORT=${BOUCLE_DEFAULT_HTTP_PORT}"
fi

exec "/app/.venv/bin/boucle-${service}" "$@"
