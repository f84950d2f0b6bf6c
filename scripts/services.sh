#!/usr/bin/env bash
# `services.sh ensure`: makes sure the servers the tests talk to are up (MariaDB on
# 127.0.0.1:3306, root without password; Redis on 127.0.0.1:6379). Installs them from
# Debian's packages when missing, and starts them when stopped. The Kafka broker the tests
# use is scripts/kafka-dev.sh's.
set -euo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_mariadb() {
    listening 3306 && return 0
    if ! [ -x /usr/sbin/mariadbd ] && command -v apt-get >/dev/null 2>&1; then
        echo "services: installing MariaDB (apt-get install -y mariadb-server)" >&2
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq mariadb-server >/dev/null
    fi
    if [ -x /usr/sbin/mariadbd ]; then
        echo "services: starting MariaDB" >&2
        as_root mkdir -p /run/mysqld
        as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
        as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
        for _ in $(seq 1 60); do
            listening 3306 && return 0
            sleep 0.5
        done
        echo "services: MariaDB did not come up on 127.0.0.1:3306" >&2
        return 1
    fi
    echo "services: MariaDB is not installed: apt-get install -y mariadb-server (the tests need 127.0.0.1:3306, root without password)" >&2
    return 1
}

ensure_redis() {
    listening 6379 && return 0
    if ! command -v redis-server >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        echo "services: installing Redis (apt-get install -y redis-server)" >&2
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >/dev/null
    fi
    if command -v redis-server >/dev/null 2>&1; then
        echo "services: starting Redis" >&2
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
        for _ in $(seq 1 40); do
            listening 6379 && return 0
            sleep 0.25
        done
        echo "services: Redis did not come up on 127.0.0.1:6379" >&2
        return 1
    fi
    echo "services: Redis is not installed: apt-get install -y redis-server (the tests need 127.0.0.1:6379)" >&2
    return 1
}

case "${1:-ensure}" in
    ensure) ensure_mariadb && ensure_redis ;;
    *) echo "usage: $0 ensure" >&2; exit 2 ;;
esac
