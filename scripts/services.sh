#!/usr/bin/env bash
# `services.sh ensure`: makes sure the servers the tests talk to are up
# (MariaDB on 127.0.0.1:3306, root without password). Installs it from Debian's packages
# when it is missing, and starts it when it is stopped.
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

case "${1:-ensure}" in
    ensure) ensure_mariadb ;;
    *) echo "usage: $0 ensure" >&2; exit 2 ;;
esac
