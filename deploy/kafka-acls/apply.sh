#!/usr/bin/env bash
# Apply Boucle's Kafka ACLs (acls.txt beside this script, or the file given) with Kafka's own
# kafka-acls.sh, as the admin principal (a broker super user). Adding an ACL that exists is a
# no-op, so it is safe to run again after every release.
#
#   KAFKA_BOOTSTRAP_SERVERS=broker:9093 KAFKA_ADMIN_CONFIG=admin.properties \
#     deploy/kafka-acls/apply.sh [acls.txt]
#
# KAFKA_ADMIN_CONFIG: client properties of the admin (security.protocol=SASL_SSL,
# sasl.mechanism=SCRAM-SHA-512, sasl.jaas.config=..., ssl.truststore.type=PEM,
# ssl.truststore.location=ca.pem). KAFKA_ACLS: the kafka-acls.sh to run (default: on PATH).
# For services running with a TOPIC_PREFIX, regenerate the file first:
#   .venv/bin/python -m boucle_runtime.kafka_acls export --prefix "$PREFIX" --output acls.txt
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FILE="${1:-$HERE/acls.txt}"
KAFKA_ACLS="${KAFKA_ACLS:-kafka-acls.sh}"
: "${KAFKA_BOOTSTRAP_SERVERS:?set KAFKA_BOOTSTRAP_SERVERS}"
: "${KAFKA_ADMIN_CONFIG:?set KAFKA_ADMIN_CONFIG (client properties of the admin user)}"

while read -r principal permission operation type name; do
  [[ -z "$principal" || "$principal" == \#* ]] && continue
  [[ "$permission" == ALLOW ]] || { echo "unexpected permission '$permission'" >&2; exit 1; }
  case "$type" in
    TOPIC) resource=(--topic "$name") ;;
    GROUP) resource=(--group "$name") ;;
    *) echo "unexpected resource type '$type'" >&2; exit 1 ;;
  esac
  "$KAFKA_ACLS" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" --command-config "$KAFKA_ADMIN_CONFIG" \
    --add --allow-principal "$principal" --operation "$operation" "${resource[@]}" \
    --resource-pattern-type literal >/dev/null
  echo "$principal ALLOW $operation $type $name"
done <"$FILE"
