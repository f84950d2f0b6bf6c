#!/usr/bin/env bash
# `services.sh ensure`: makes sure the servers the tests talk to are up
# (MariaDB on 127.0.0.1:3306). Starts one that is installed but stopped; says what to
# install when it is missing.
set -euo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_mariadb() {
    listening 3306 && return 0
    if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
        echo "services: starting MariaDB" >&2
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
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
