#!/usr/bin/env bash
# Local Apache Kafka (KRaft, from Maven Central jars) and FerretDB v1 (SQLite backend, built
# from the Go module proxy) for machines without a Docker engine.
#
#   deploy/local/services.sh provision            download and build, cached under .cache/
#   deploy/local/services.sh start [kafka|mongo]  start (idempotent) and wait until they answer
#   deploy/local/services.sh stop  [kafka|mongo]  stop only the processes this script started
#   deploy/local/services.sh status               what runs, where
#   deploy/local/services.sh env                  the variables tests and services read
#   deploy/local/services.sh reset                stop, then wipe local data (not the caches)
#
# Settings (environment): BOUCLE_CACHE_DIR (default <repo>/.cache), BOUCLE_RUN_DIR (default
# $BOUCLE_CACHE_DIR/run), BOUCLE_KAFKA_PORT (9092), BOUCLE_KAFKA_CONTROLLER_PORT (9093),
# BOUCLE_MONGO_PORT (27017), BOUCLE_KAFKA_HEAP (512m).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${BOUCLE_CACHE_DIR:-$ROOT/.cache}"
RUN="${BOUCLE_RUN_DIR:-$CACHE/run}"
KAFKA_PORT="${BOUCLE_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${BOUCLE_KAFKA_CONTROLLER_PORT:-9093}"
MONGO_PORT="${BOUCLE_MONGO_PORT:-27017}"
KAFKA_HEAP="${BOUCLE_KAFKA_HEAP:-512m}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/kafka/pom.xml")"
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
FERRETDB_BIN="$CACHE/bin/ferretdb"
START_TIMEOUT="${BOUCLE_START_TIMEOUT:-120}"

log() { printf '[boucle-services] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed: $2"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A pid counts as ours only if its command line names our run folder: a recycled pid or a
# service started by someone else is never signalled.
our_pid() {
  local pidfile="$RUN/$1/pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$RUN/$1" || return 1
  echo "$pid"
}

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

provision_kafka() {
  local stamp; stamp="$(stamp_of "$HERE/kafka/pom.xml")"
  if [[ -f "$KAFKA_LIBS/.stamp" && "$(cat "$KAFKA_LIBS/.stamp")" == "$stamp" ]]; then
    log "kafka $KAFKA_VERSION: cached in $KAFKA_LIBS"; return
  fi
  need java "install Java 17+ (Debian: apt-get install openjdk-17-jre-headless)"
  need mvn "install Maven (Debian: apt-get install maven)"
  log "kafka $KAFKA_VERSION: resolving jars from Maven Central"
  local tmp="$KAFKA_LIBS.tmp"
  rm -rf "$tmp"
  mkdir -p "$CACHE"
  mvn -B -Dstyle.color=never -f "$HERE/kafka/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$CACHE/kafka-maven.log" 2>&1 \
    || { tail -n 40 "$CACHE/kafka-maven.log" >&2; die "Maven could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION (above; full log $CACHE/kafka-maven.log)"; }
  echo "$stamp" >"$tmp/.stamp"
  rm -rf "$KAFKA_LIBS"; mv "$tmp" "$KAFKA_LIBS"
  log "kafka $KAFKA_VERSION: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $KAFKA_LIBS"
}

provision_ferretdb() {
  local stamp; stamp="$(stamp_of "$HERE/ferretdb/go.mod" "$HERE/ferretdb/go.sum" "$HERE/ferretdb/main.go" "$HERE"/ferretdb/patches/*.patch)"
  if [[ -x "$FERRETDB_BIN" && -f "$FERRETDB_BIN.stamp" && "$(cat "$FERRETDB_BIN.stamp")" == "$stamp" ]]; then
    log "ferretdb: cached at $FERRETDB_BIN"; return
  fi
  need go "install Go 1.24+ (https://go.dev/doc/install or Debian backports: golang)"
  need patch "install patch (Debian package patch)"
  log "ferretdb: building v1.24.2 (SQLite backend) from the Go module proxy, with deploy/local/ferretdb/patches"
  mkdir -p "$CACHE/bin"
  (
    export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOTOOLCHAIN=local GOFLAGS=-mod=mod
    cd "$HERE/ferretdb"
    # The module cache is read-only: patch a copy, and build a copy of our module that
    # replaces FerretDB with it (our committed go.mod stays a plain proxy dependency).
    upstream="$(go mod download -json github.com/FerretDB/FerretDB | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
    src="$CACHE/ferretdb-src" build="$CACHE/ferretdb-build"
    rm -rf "$src" "$build"; mkdir -p "$build"
    cp -r "$upstream" "$src"; chmod -R u+w "$src"
    for p in "$HERE"/ferretdb/patches/*.patch; do patch -s -p1 -d "$src" <"$p"; done
    cp go.mod go.sum main.go "$build/"
    cd "$build"
    go mod edit -replace "github.com/FerretDB/FerretDB=$src"
    go build -trimpath -o "$FERRETDB_BIN.tmp" .
  ) || die "building FerretDB failed (see the error above)"
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  echo "$stamp" >"$FERRETDB_BIN.stamp"
  log "ferretdb: built $FERRETDB_BIN"
}

wait_until() {  # name, pid, check command...
  local name="$1" pid="$2"; shift 2
  local deadline=$((SECONDS + START_TIMEOUT))
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited during start-up; last lines of $RUN/$name/stdout.log:"
      tail -n 30 "$RUN/$name/stdout.log" >&2 || true
      exit 1
    fi
    ((SECONDS < deadline)) || die "$name did not answer within ${START_TIMEOUT}s (logs: $RUN/$name/)"
    sleep 0.5
  done
}

kafka_ready() {
  port_open "$KAFKA_PORT" && grep -q "Kafka Server started" "$RUN/kafka/logs/server.log" 2>/dev/null
}

start_kafka() {
  local dir="$RUN/kafka" pid
  if pid="$(our_pid kafka)"; then log "kafka: already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"; return; fi
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by a process this script did not start; stop it, or set BOUCLE_KAFKA_PORT, or point KAFKA_BOOTSTRAP_SERVERS at it"
  provision_kafka
  mkdir -p "$dir/logs"
  sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$CONTROLLER_PORT#g" -e "s#@DATA_DIR@#$dir#g" \
    "$HERE/kafka/server.properties.template" >"$dir/server.properties"
  local cp="$KAFKA_LIBS/*"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local cluster_id; cluster_id="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    java -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties" -Dkafka.logs.dir="$dir/logs" -cp "$cp" \
      kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
      || { cat "$dir/format.log" >&2; die "formatting Kafka storage failed"; }
    log "kafka: formatted storage (cluster $cluster_id)"
  fi
  rm -f "$dir/logs/server.log"
  setsid nohup java -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties" \
    -Dkafka.logs.dir="$dir/logs" -cp "$cp" kafka.Kafka "$dir/server.properties" \
    >"$dir/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  wait_until kafka "$!" kafka_ready
  log "kafka: ready on 127.0.0.1:$KAFKA_PORT (pid $(cat "$dir/pid"), logs in $dir/logs)"
}

start_mongo() {
  local dir="$RUN/ferretdb" pid
  if pid="$(our_pid ferretdb)"; then log "ferretdb: already running (pid $pid) on 127.0.0.1:$MONGO_PORT"; return; fi
  port_open "$MONGO_PORT" && die "port $MONGO_PORT is taken by a process this script did not start; stop it, or set BOUCLE_MONGO_PORT, or point MONGODB_URI at it"
  provision_ferretdb
  mkdir -p "$dir/data"
  setsid nohup "$FERRETDB_BIN" -listen-addr "127.0.0.1:$MONGO_PORT" -sqlite-url "file:$dir/data/" \
    >"$dir/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  wait_until ferretdb "$!" port_open "$MONGO_PORT"
  log "ferretdb: ready on 127.0.0.1:$MONGO_PORT (pid $(cat "$dir/pid"), log $dir/stdout.log)"
}

stop_one() {
  local name="$1" pid
  if ! pid="$(our_pid "$name")"; then log "$name: not running (nothing of ours to stop)"; rm -f "$RUN/$name/pid"; return; fi
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then log "$name: still up after 30s, killing"; kill -KILL "$pid"; fi
  rm -f "$RUN/$name/pid"
  log "$name: stopped"
}

status() {
  local name pid
  for name in kafka ferretdb; do
    if pid="$(our_pid "$name")"; then echo "$name: running (pid $pid)"; else echo "$name: stopped"; fi
  done
  echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT"
  echo "MONGODB_URI=mongodb://127.0.0.1:$MONGO_PORT/"
}

target() {  # kafka|mongo|all -> function suffixes
  case "${1:-all}" in
    kafka) echo kafka ;; mongo|ferretdb) echo mongo ;; all) echo "kafka mongo" ;;
    *) die "unknown service '$1' (kafka, mongo or nothing for both)" ;;
  esac
}

cmd="${1:-}"; shift || true
case "$cmd" in
  provision) provision_kafka; provision_ferretdb ;;
  start) for t in $(target "${1:-}"); do "start_$t"; done ;;
  stop) for t in $(target "${1:-}"); do [[ $t == mongo ]] && stop_one ferretdb || stop_one kafka; done ;;
  status) status ;;
  env) echo "export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT MONGODB_URI=mongodb://127.0.0.1:$MONGO_PORT/" ;;
  reset) stop_one kafka; stop_one ferretdb; rm -rf "$RUN/kafka" "$RUN/ferretdb"; log "local data wiped" ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
