#!/usr/bin/env bash
# Local Apache Kafka (KRaft, from Maven Central jars), FerretDB v1 (SQLite backend), an
# OpenID Connect provider (deploy/local/oidc) and Mailpit (SMTP with an inbox API), the last
# three built from the Go module proxy, for machines without a Docker engine.
#
#   deploy/local/services.sh provision [SERVICE...]  download and build, cached under .cache/
#   deploy/local/services.sh start [SERVICE...]      start (idempotent), wait until they answer
#   deploy/local/services.sh stop  [SERVICE...]      stop only the processes this script started
#   deploy/local/services.sh status                  what runs, where
#   deploy/local/services.sh env                     the variables tests and services read
#   deploy/local/services.sh reset                   stop, then wipe local data (not the caches)
#   deploy/local/services.sh rotate [SERVICE...]     move the logs aside (start does it itself)
#
# SERVICE: kafka, mongo, oidc, mail; none means all four (oidc and mail start in under a
# second once built; provision builds all four).
#
# Settings (environment): BOUCLE_CACHE_DIR (default <repo>/.cache), BOUCLE_RUN_DIR (default
# $BOUCLE_CACHE_DIR/run), BOUCLE_KAFKA_PORT (9092), BOUCLE_KAFKA_CONTROLLER_PORT (9093),
# BOUCLE_MONGO_PORT (27017), BOUCLE_OIDC_PORT (5556), BOUCLE_SMTP_PORT (1025),
# BOUCLE_MAILPIT_PORT (8025, inbox API), BOUCLE_KAFKA_HEAP (512m), BOUCLE_KEEP_LOGS (5 previous runs).
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
OIDC_PORT="${BOUCLE_OIDC_PORT:-5556}"
OIDC_ISSUER="http://127.0.0.1:$OIDC_PORT"
OIDC_BIN="$CACHE/bin/boucle-oidc"
SMTP_PORT="${BOUCLE_SMTP_PORT:-1025}"
MAILPIT_PORT="${BOUCLE_MAILPIT_PORT:-8025}"
MAILPIT_BIN="$CACHE/bin/mailpit"
START_TIMEOUT="${BOUCLE_START_TIMEOUT:-120}"
KEEP_LOGS="${BOUCLE_KEEP_LOGS:-5}"

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

# A start never deletes the previous run's logs (after a crash they are what explains it):
# each log moves aside as <name>.<UTC time of its last write>, the newest $KEEP_LOGS kept.
rotate_log() {  # file
  local file="$1" stamp target old
  [[ -f "$file" ]] || return 0
  stamp="$(date -u -r "$file" +%Y%m%dT%H%M%SZ)"
  target="$file.$stamp"
  [[ -e "$target" ]] && target="$file.$stamp-$$"
  mv "$file" "$target"
  # Timestamps sort by name; log4j's own size rollovers (server.log.1, .2) are not matched.
  while IFS= read -r old; do rm -f "$old"; done < <(
    compgen -G "$file.[0-9]*T*Z*" | sort | head -n "-$KEEP_LOGS"
  )
}

rotate_logs() {  # kafka|ferretdb|oidc|mailpit
  local dir="$RUN/$1"
  if [[ $1 == kafka ]]; then rotate_log "$dir/logs/server.log"; fi
  rotate_log "$dir/stdout.log"
}

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

# Go builds share the module and build caches under .cache/go (warm after the first build).
go_env() {
  export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOTOOLCHAIN=local
}

provision_oidc() {
  local stamp; stamp="$(stamp_of "$HERE/oidc/go.mod" "$HERE/oidc/go.sum" "$HERE/oidc/main.go")"
  if [[ -x "$OIDC_BIN" && -f "$OIDC_BIN.stamp" && "$(cat "$OIDC_BIN.stamp")" == "$stamp" ]]; then
    log "oidc: cached at $OIDC_BIN"; return
  fi
  need go "install Go 1.26+ (https://go.dev/doc/install)"
  log "oidc: building deploy/local/oidc (zitadel/oidc v3) from the Go module proxy"
  mkdir -p "$CACHE/bin"
  (go_env; cd "$HERE/oidc" && go build -trimpath -o "$OIDC_BIN.tmp" .) || die "building the OIDC provider failed (see the error above)"
  mv "$OIDC_BIN.tmp" "$OIDC_BIN"
  echo "$stamp" >"$OIDC_BIN.stamp"
  log "oidc: built $OIDC_BIN"
}

provision_mail() {
  local stamp; stamp="$(stamp_of "$HERE/mailpit/go.mod" "$HERE/mailpit/go.sum")"
  if [[ -x "$MAILPIT_BIN" && -f "$MAILPIT_BIN.stamp" && "$(cat "$MAILPIT_BIN.stamp")" == "$stamp" ]]; then
    log "mailpit: cached at $MAILPIT_BIN"; return
  fi
  need go "install Go 1.26+ (https://go.dev/doc/install)"
  log "mailpit: building from the Go module proxy (deploy/local/mailpit pins the version; takes minutes the first time)"
  mkdir -p "$CACHE/bin"
  (
    go_env; cd "$HERE/mailpit"
    version="$(go list -m -f '{{.Version}}' github.com/axllent/mailpit)"
    go build -trimpath -ldflags "-s -w -X github.com/axllent/mailpit/config.Version=$version" \
      -o "$MAILPIT_BIN.tmp" github.com/axllent/mailpit
  ) || die "building Mailpit failed (see the error above)"
  mv "$MAILPIT_BIN.tmp" "$MAILPIT_BIN"
  echo "$stamp" >"$MAILPIT_BIN.stamp"
  log "mailpit: built $MAILPIT_BIN"
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
  rotate_logs kafka  # also what kafka_ready reads: the new server.log starts empty
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
  rotate_logs ferretdb
  setsid nohup "$FERRETDB_BIN" -listen-addr "127.0.0.1:$MONGO_PORT" -sqlite-url "file:$dir/data/" \
    >"$dir/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  wait_until ferretdb "$!" port_open "$MONGO_PORT"
  log "ferretdb: ready on 127.0.0.1:$MONGO_PORT (pid $(cat "$dir/pid"), log $dir/stdout.log)"
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }

oidc_ready() { http_ok "$OIDC_ISSUER/.well-known/openid-configuration"; }

start_oidc() {
  local dir="$RUN/oidc" pid
  if pid="$(our_pid oidc)"; then log "oidc: already running (pid $pid) at $OIDC_ISSUER"; return; fi
  port_open "$OIDC_PORT" && die "port $OIDC_PORT is taken by a process this script did not start; stop it, or set BOUCLE_OIDC_PORT"
  need curl "install curl (Debian package curl)"
  provision_oidc
  mkdir -p "$dir"
  rotate_logs oidc
  # The signing key stays in the run folder across restarts (created on the first start), so
  # tokens already handed out keep verifying; `reset` wipes it with the rest.
  setsid nohup "$OIDC_BIN" -listen "127.0.0.1:$OIDC_PORT" -issuer "$OIDC_ISSUER" \
    -config "$HERE/oidc/config.json" -signing-key "$dir/signing-key.pem" \
    >"$dir/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  wait_until oidc "$!" oidc_ready
  log "oidc: ready, issuer $OIDC_ISSUER (pid $(cat "$dir/pid"), log $dir/stdout.log)"
}

mail_ready() { port_open "$SMTP_PORT" && http_ok "http://127.0.0.1:$MAILPIT_PORT/api/v1/messages"; }

start_mail() {
  local dir="$RUN/mailpit" pid
  if pid="$(our_pid mailpit)"; then log "mailpit: already running (pid $pid), SMTP 127.0.0.1:$SMTP_PORT"; return; fi
  port_open "$SMTP_PORT" && die "port $SMTP_PORT is taken by a process this script did not start; stop it, or set BOUCLE_SMTP_PORT"
  port_open "$MAILPIT_PORT" && die "port $MAILPIT_PORT is taken by a process this script did not start; stop it, or set BOUCLE_MAILPIT_PORT"
  need curl "install curl (Debian package curl)"
  provision_mail
  mkdir -p "$dir"
  rotate_logs mailpit
  # Any SMTP login is accepted (the services may be configured with credentials); no update
  # check (no network but the registries).
  setsid nohup "$MAILPIT_BIN" --listen "127.0.0.1:$MAILPIT_PORT" --smtp "127.0.0.1:$SMTP_PORT" \
    --database "$dir/mailpit.db" --max 5000 --smtp-auth-accept-any --smtp-auth-allow-insecure \
    --disable-version-check \
    >"$dir/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  wait_until mailpit "$!" mail_ready
  log "mailpit: ready, SMTP 127.0.0.1:$SMTP_PORT, inbox API http://127.0.0.1:$MAILPIT_PORT/api/v1/ (pid $(cat "$dir/pid"), log $dir/stdout.log)"
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
  for name in kafka ferretdb oidc mailpit; do
    if pid="$(our_pid "$name")"; then echo "$name: running (pid $pid)"; else echo "$name: stopped"; fi
  done
  echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT"
  echo "MONGODB_URI=mongodb://127.0.0.1:$MONGO_PORT/"
  echo "OIDC_ISSUER_URL=$OIDC_ISSUER"
  echo "SMTP_HOST=127.0.0.1 SMTP_PORT=$SMTP_PORT MAILPIT_API_URL=http://127.0.0.1:$MAILPIT_PORT"
}

targets() {  # service names (none: all) -> function suffixes
  local name
  (($#)) || set -- kafka mongo oidc mail
  for name in "$@"; do
    case "$name" in
      kafka) echo kafka ;; mongo|ferretdb) echo mongo ;; oidc) echo oidc ;; mail|mailpit) echo mail ;;
      *) die "unknown service '$name' (kafka, mongo, oidc, mail; nothing for all)" ;;
    esac
  done
}

run_dir_of() {  # function suffix -> folder name under $RUN
  case "$1" in mongo) echo ferretdb ;; mail) echo mailpit ;; *) echo "$1" ;; esac
}

provision_one() { if [[ $1 == mongo ]]; then provision_ferretdb; else "provision_$1"; fi; }

cmd="${1:-}"; shift || true
# Resolved first: an unknown name stops the script before anything starts.
TARGETS="$(targets "$@")"
case "$cmd" in
  provision) for t in $TARGETS; do provision_one "$t"; done ;;
  start) for t in $TARGETS; do "start_$t"; done ;;
  stop) for t in $TARGETS; do stop_one "$(run_dir_of "$t")"; done ;;
  status) status ;;
  env) echo "export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT MONGODB_URI=mongodb://127.0.0.1:$MONGO_PORT/" \
    "OIDC_ISSUER_URL=$OIDC_ISSUER OIDC_JWKS_URL=$OIDC_ISSUER/keys" \
    "SMTP_HOST=127.0.0.1 SMTP_PORT=$SMTP_PORT MAILPIT_API_URL=http://127.0.0.1:$MAILPIT_PORT" ;;
  rotate) for t in $TARGETS; do rotate_logs "$(run_dir_of "$t")"; done ;;
  reset)
    for name in kafka ferretdb oidc mailpit; do stop_one "$name"; done
    rm -rf "$RUN/kafka" "$RUN/ferretdb" "$RUN/oidc" "$RUN/mailpit"; log "local data wiped" ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
