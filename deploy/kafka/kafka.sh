#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, broker+controller) for tests, fetched from Maven Central.
#
#   bash deploy/kafka/kafka.sh fetch    download the broker jars (skipped when present)
#   bash deploy/kafka/kafka.sh start    fetch if needed, start in background, wait until ready,
#                                       print KAFKA_BROKERS=127.0.0.1:<port>
#   bash deploy/kafka/kafka.sh stop     stop the broker started by `start`
#   bash deploy/kafka/kafka.sh status   exit 0 and print KAFKA_BROKERS when running, else exit 1
#   bash deploy/kafka/kafka.sh kill     SIGKILL the broker (tests of a crashed broker)
#
# Environment:
#   KAFKA_VERSION          broker version (default 3.9.1)
#   KAFKA_HOME_DIR         where the jars go (default <project>/.cache/kafka/libs); may be shared
#   KAFKA_STATE_DIR        data, config, pid and log (default <project>/.cache/kafka); a test that
#                          restarts or kills a broker uses a state dir and ports of its own
#   KAFKA_PORT             PLAINTEXT listener (default 19092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener (default 19093)
#   KAFKA_START_TIMEOUT    seconds to wait for readiness (default 60)
# State (data, server.properties, pid, log) lives in KAFKA_STATE_DIR, by default <project>/.cache/kafka (gitignored).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
STATE_DIR="${KAFKA_STATE_DIR:-$PROJECT_ROOT/.cache/kafka}"

KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
LIBS_DIR="${KAFKA_HOME_DIR:-$PROJECT_ROOT/.cache/kafka/libs}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"

DATA_DIR="$STATE_DIR/data"
CONFIG_FILE="$STATE_DIR/server.properties"
PID_FILE="$STATE_DIR/kafka.pid"
LOG_FILE="$STATE_DIR/kafka.log"
# Telemetry batches are published as one message each and can be several MiB.
MAX_MESSAGE_BYTES=$((16 * 1024 * 1024))

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

require_command() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not on PATH ($2)"
}

broker_jar() { echo "$LIBS_DIR/kafka_2.13-$KAFKA_VERSION.jar"; }

fetch() {
  if [[ -f "$(broker_jar)" ]] && compgen -G "$LIBS_DIR/slf4j-reload4j-*.jar" >/dev/null; then
    return 0
  fi
  require_command mvn "install Maven, e.g. apt-get install -y maven"
  log "fetching Kafka $KAFKA_VERSION jars into $LIBS_DIR"
  mkdir -p "$LIBS_DIR" "$STATE_DIR"
  # Maven's output goes to a file: stdout carries only KAFKA_BROKERS=... for callers to parse.
  if ! mvn -q -B -Dstyle.color=never -f "$SCRIPT_DIR/pom.xml" \
    dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" \
    -Dkafka.libs.dir="$LIBS_DIR" \
    -DincludeScope=runtime \
    -DoutputDirectory="$LIBS_DIR" >"$STATE_DIR/fetch.log" 2>&1; then
    cat "$STATE_DIR/fetch.log" >&2
    die "fetching the Kafka jars failed (Maven Central reachable?)"
  fi
  [[ -f "$(broker_jar)" ]] || die "fetch finished but $(broker_jar) is missing"
}

port_answers() {
  # bash's /dev/tcp: no nc/curl needed. The subshell closes the socket on exit.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  # A stale pid file may name a pid the system has since given to something else.
  ps -p "$pid" -o args= 2>/dev/null | grep -q "kafka.Kafka" || return 1
  echo "$pid"
}

write_config() {
  cat >"$CONFIG_FILE" <<PROPS
# Written by deploy/kafka/kafka.sh start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR
num.partitions=3
auto.create.topics.enable=true
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
message.max.bytes=$MAX_MESSAGE_BYTES
replica.fetch.max.bytes=$MAX_MESSAGE_BYTES
socket.request.max.bytes=$((MAX_MESSAGE_BYTES * 2))
log.retention.hours=24
PROPS
}

java_cmd() {
  java -Xmx512m -XX:+UseSerialGC \
    -Dlog4j.configuration="file:$SCRIPT_DIR/log4j.properties" \
    -cp "$LIBS_DIR/*" "$@"
}

format_storage() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then return 0; fi
  local cluster_id
  cluster_id="$(java_cmd kafka.tools.StorageTool random-uuid | tail -n 1)"
  java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG_FILE" --ignore-formatted >/dev/null
}

start() {
  if running_pid >/dev/null; then
    log "already running (pid $(cat "$PID_FILE"))"
    echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  require_command java "install a JDK 17+, e.g. apt-get install -y openjdk-17-jre-headless"
  if port_answers "$KAFKA_PORT"; then die "port $KAFKA_PORT is taken by another process"; fi
  if port_answers "$KAFKA_CONTROLLER_PORT"; then die "port $KAFKA_CONTROLLER_PORT is taken by another process"; fi
  fetch
  mkdir -p "$DATA_DIR"
  write_config
  format_storage

  : >"$LOG_FILE"
  nohup java -Xmx512m -XX:+UseSerialGC \
    -Dlog4j.configuration="file:$SCRIPT_DIR/log4j.properties" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$CONFIG_FILE" >>"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"

  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  # The listener socket is bound before the broker serves requests; the "started" line
  # (log4j.properties keeps KafkaRaftServer at INFO) is the real readiness signal.
  until port_answers "$KAFKA_PORT" && grep -q "Kafka Server started" "$LOG_FILE"; do
    if ! running_pid >/dev/null; then
      tail -n 40 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"
      die "broker exited during startup (log: $LOG_FILE)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 40 "$LOG_FILE" >&2 || true
      stop
      die "broker not ready after ${KAFKA_START_TIMEOUT}s (log: $LOG_FILE)"
    fi
    sleep 0.5
  done
  log "started (pid $(cat "$PID_FILE"), log $LOG_FILE)"
  echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  # A single-node controlled shutdown takes a few seconds; do not leave a stray JVM behind.
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM for 30s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

kill_broker() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    return 0
  fi
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  rm -f "$PID_FILE"
  log "killed (pid $pid)"
}

status() {
  local pid
  if pid="$(running_pid)" && port_answers "$KAFKA_PORT"; then
    log "running (pid $pid)"
    echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  log "not running"
  return 1
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  kill) kill_broker ;;
  *) die "usage: $0 fetch|start|stop|status|kill" ;;
esac
