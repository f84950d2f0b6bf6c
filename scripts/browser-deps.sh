#!/usr/bin/env bash
# What the browser test (engine/tests/browser.rs) needs: Debian's headless Chromium and CJK
# fonts for the board's Chinese labels. Installs them from Debian's packages when missing;
# where that cannot be done the test says so and skips, and the rest of the suite runs.
set -uo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/bin/chromium-headless-shell ] || [ -x /usr/bin/chromium ] || [ -n "${SLUICE_CHROMIUM:-}" ] \
    || missing+=(chromium-headless-shell)
# Not `grep -q`: it exits at the first match, fc-list dies of SIGPIPE and pipefail fails the check.
fc-list 2>/dev/null | grep -i 'Noto Sans CJK' >/dev/null || missing+=(fonts-noto-cjk)
if [ "${#missing[@]}" -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "browser-deps: no apt-get; install ${missing[*]} for the browser test (it skips without them)" >&2
        exit 0
    fi
    echo "browser-deps: apt-get install -y ${missing[*]}" >&2
    if ! { as_root apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
        echo "browser-deps: could not install ${missing[*]}; the browser test will skip" >&2
    fi
fi
exit 0
