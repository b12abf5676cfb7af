#!/bin/sh
# Container entrypoint for every Boucle service image (see Dockerfile.service).
#
# Each service reads its settings from BOUCLE_<SERVICE>_*; the service name is only
# known at build time (BOUCLE_SERVICE), so the container-specific defaults are set
# here rather than with ENV:
#   BOUCLE_<SERVICE>_HTTP_HOST  0.0.0.0 (the service's own default, 127.0.0.1, is
#                               unreachable from outside the container)
#   BOUCLE_<SERVICE>_HTTP_PORT  the port the image EXPOSEs (BOUCLE_DEFAULT_HTTP_PORT)
# Secrets come from files, never from the compose file or the image: for every
# BOUCLE_<SERVICE>_<NAME>__FILE naming a readable file, BOUCLE_<SERVICE>_<NAME> is set to its
# content (trailing newlines dropped), as Grafana's __FILE variables do (two underscores:
# settings such as BOUCLE_COLLECTOR_INTEGRATIONS_FILE are paths already).
# Values already in the environment win. Then exec: the service replaces this shell
# as PID 1 and receives SIGTERM directly.
set -eu

service="${BOUCLE_SERVICE:-}"
case "$service" in
  collector|analyzer|actions|reporter|console|surveys) ;;
  *) echo "entrypoint: BOUCLE_SERVICE must be collector|analyzer|actions|reporter|console|surveys (got '$service')" >&2
     exit 64 ;;
esac

prefix="BOUCLE_$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')_"

if [ -z "$(printenv "${prefix}HTTP_HOST" || true)" ]; then
  export "${prefix}HTTP_HOST=0.0.0.0"
fi
if [ -z "$(printenv "${prefix}HTTP_PORT" || true)" ] && [ -n "${BOUCLE_DEFAULT_HTTP_PORT:-}" ]; then
  export "${prefix}HTTP_PORT=${BOUCLE_DEFAULT_HTTP_PORT}"
fi

# Names only (the values are never printed): read each *__FILE variable of this service.
for file_var in $(env | sed -n "s/^\(${prefix}[A-Z0-9_]*[A-Z0-9]\)__FILE=.*/\1/p"); do
  if [ -n "$(printenv "$file_var" || true)" ]; then
    continue
  fi
  path="$(printenv "${file_var}__FILE")"
  if [ ! -r "$path" ]; then
    echo "entrypoint: ${file_var}__FILE names '$path', which cannot be read" >&2
    exit 66
  fi
  # $(...) drops trailing newlines, which is what a secret file's last line needs.
  export "$file_var=$(cat "$path")"
done

exec "${BOUCLE_APP_DIR:-/app}/.venv/bin/boucle-${service}" "$@"
