#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with the Rust toolchain:
# formatting, lints, then every unit and integration test (dev profile).
# Needs MariaDB on 127.0.0.1:3306 (root, no password): started here if installed but down.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sluice-target}"

scripts/build-deps.sh
scripts/browser-deps.sh
scripts/fetch-ip2region.sh
scripts/services.sh ensure

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --all-targets
