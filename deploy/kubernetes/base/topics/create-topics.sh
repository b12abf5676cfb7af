#!/bin/bash
# Creates Boucle's Kafka topic layout; idempotent (existing topics are left as they are).
#
# Run by the Job boucle-topics (job.yaml) with the apache/kafka image's tools; works as well
# from any machine with Kafka's bin/ (KAFKA_BIN). The services run with
# BOUCLE_<SVC>_CREATE_TOPICS=false: this script is the one owner of partitions, replication
# and retention.
#
# The layout is contracts/src/boucle_contracts/registry.py (TOPICS, dead_letter_topic()):
# tests/unit/test_deploy_kubernetes.py fails when a create_topic line below disagrees with it.
#
# Environment:
#   KAFKA_BOOTSTRAP_SERVERS  host:port[,host:port]                          (required)
#   TOPIC_PREFIX             prepended to every name, like BOUCLE_<SVC>_TOPIC_PREFIX  ("")
#   REPLICATION_FACTOR       3 in production, 1 on a single-broker dev cluster        (3)
#   MIN_INSYNC_REPLICAS      producers use acks=all: 2 of 3 replicas must have a write (2 when
#                            REPLICATION_FACTOR >= 3, else 1)
#   EVENT_RETENTION_MS       event topics are the system of record for audits (Qualiopi
#                            asks for evidence over years): kept forever by default    (-1)
#   DEADLETTER_RETENTION_MS  parked messages, kept 90 days to inspect and replay (7776000000)
#   KAFKA_CLIENT_CONFIG      admin client properties (TLS/SASL), used when the file exists
#                            (/etc/boucle/kafka-client/client.properties)
#   KAFKA_BIN                where kafka-topics.sh is                      (/opt/kafka/bin)
#   WAIT_ATTEMPTS            tries (5 s apart) for the cluster to answer before giving up (60)
set -euo pipefail

: "${KAFKA_BOOTSTRAP_SERVERS:?set KAFKA_BOOTSTRAP_SERVERS}"
TOPIC_PREFIX="${TOPIC_PREFIX:-}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-3}"
if [[ -z "${MIN_INSYNC_REPLICAS:-}" ]]; then
  if ((REPLICATION_FACTOR >= 3)); then MIN_INSYNC_REPLICAS=2; else MIN_INSYNC_REPLICAS=1; fi
fi
EVENT_RETENTION_MS="${EVENT_RETENTION_MS:--1}"
DEADLETTER_RETENTION_MS="${DEADLETTER_RETENTION_MS:-7776000000}"
KAFKA_CLIENT_CONFIG="${KAFKA_CLIENT_CONFIG:-/etc/boucle/kafka-client/client.properties}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
WAIT_ATTEMPTS="${WAIT_ATTEMPTS:-60}"

if ((MIN_INSYNC_REPLICAS > REPLICATION_FACTOR)); then
  echo "MIN_INSYNC_REPLICAS ($MIN_INSYNC_REPLICAS) > REPLICATION_FACTOR ($REPLICATION_FACTOR): no write could succeed" >&2
  exit 64
fi

admin=(--bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS")
if [[ -f "$KAFKA_CLIENT_CONFIG" ]]; then
  admin+=(--command-config "$KAFKA_CLIENT_CONFIG")
fi

log() { echo "boucle-topics: $*"; }

wait_for_kafka() {
  local attempt
  for ((attempt = 1; attempt <= WAIT_ATTEMPTS; attempt++)); do
    if "$KAFKA_BIN/kafka-topics.sh" "${admin[@]}" --list >/dev/null 2>&1; then
      log "Kafka answers at $KAFKA_BOOTSTRAP_SERVERS"
      return 0
    fi
    log "waiting for Kafka at $KAFKA_BOOTSTRAP_SERVERS ($attempt/$WAIT_ATTEMPTS)"
    sleep 5
  done
  log "Kafka did not answer at $KAFKA_BOOTSTRAP_SERVERS" >&2
  return 1
}

# create_topic NAME PARTITIONS CLEANUP_POLICY RETENTION_MS
create_topic() {
  local name="$TOPIC_PREFIX$1" partitions="$2" policy="$3" retention="$4" actual
  "$KAFKA_BIN/kafka-topics.sh" "${admin[@]}" --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor "$REPLICATION_FACTOR" \
    --config "cleanup.policy=$policy" \
    --config "retention.ms=$retention" \
    --config "min.insync.replicas=$MIN_INSYNC_REPLICAS"
  # An existing topic keeps its partitions: say so when they differ from the layout. Never
  # add partitions here: that remaps site keys (docs/operations.md, consumer-lag).
  actual="$("$KAFKA_BIN/kafka-topics.sh" "${admin[@]}" --describe --topic "$name" |
    sed -n 's/.*PartitionCount: *\([0-9][0-9]*\).*/\1/p' | head -n 1)"
  if [[ "$actual" != "$partitions" ]]; then
    log "WARNING: $name has ${actual:-?} partitions, the layout says $partitions"
  else
    log "$name: $partitions partitions, replication $REPLICATION_FACTOR, $policy, retention.ms=$retention"
  fi
}

wait_for_kafka

# Event topics: registry.TOPICS (name, partitions; cleanup.policy=compact when compacted).
# boucle.metrics.v1 is deliberately not compacted (its key is the site, not the scope).
create_topic boucle.feedback.v1 12 delete "$EVENT_RETENTION_MS"
create_topic boucle.incidents.v1 6 delete "$EVENT_RETENTION_MS"
create_topic boucle.training.v1 6 delete "$EVENT_RETENTION_MS"
create_topic boucle.metrics.v1 6 delete "$EVENT_RETENTION_MS"
create_topic boucle.signals.v1 3 delete "$EVENT_RETENTION_MS"
create_topic boucle.problems.v1 3 delete "$EVENT_RETENTION_MS"
create_topic boucle.cases.v1 3 delete "$EVENT_RETENTION_MS"
create_topic boucle.actions.v1 3 delete "$EVENT_RETENTION_MS"
create_topic boucle.referential.v1 1 delete "$EVENT_RETENTION_MS"
create_topic boucle.solicitations.v1 3 delete "$EVENT_RETENTION_MS"
# Erasure requests: kept as long as the input topics, so a replay meets them (docs/privacy-register.md).
create_topic boucle.privacy.v1 3 delete "$EVENT_RETENTION_MS"

# Dead letters: dead_letter_topic(<consumer group>), one partition, as the services would
# create them. A renamed group (BOUCLE_<SVC>_CONSUMER_GROUP) needs its line here.
create_topic boucle.deadletter.boucle-analyzer 1 delete "$DEADLETTER_RETENTION_MS"
create_topic boucle.deadletter.boucle-actions 1 delete "$DEADLETTER_RETENTION_MS"
create_topic boucle.deadletter.boucle-reporter 1 delete "$DEADLETTER_RETENTION_MS"
create_topic boucle.deadletter.boucle-surveys 1 delete "$DEADLETTER_RETENTION_MS"

log "topic layout in place"
