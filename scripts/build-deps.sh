#!/usr/bin/env bash
# What the build needs besides the Rust toolchain: rdkafka builds its bundled librdkafka with
# cmake and links libcurl (Debian's librdkafka-dev is too old to link dynamically).
# Installs them from Debian's packages when missing.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
[ -e /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -e /usr/include/curl/curl.h ] \
    || [ -e "/usr/include/$(uname -m)-linux-gnu/curl/curl.h" ] || missing+=(libcurl4-openssl-dev)
command -v c++ >/dev/null 2>&1 || missing+=(g++)
if [ "${#missing[@]}" -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "build-deps: please install ${missing[*]} (needed to build librdkafka)" >&2
        exit 1
    fi
    echo "build-deps: apt-get install -y ${missing[*]}" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
