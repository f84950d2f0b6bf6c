# Shared by the bench scripts: where things go ($CARGO_TARGET_DIR, $sluice the release
# binary, $out for outputs), `say`, `build_release`, and `timed` (wall time and peak RSS
# with GNU time).

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/sluice-target}
sluice=$CARGO_TARGET_DIR/release/sluice
out=bench/out
mkdir -p "$out"

say() { printf '\n== %s\n' "$*"; }

build_release() {
    say "building sluice (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    cargo build --release -p sluice
}

# GNU time for wall time and peak RSS.
if ! [[ -x /usr/bin/time ]]; then
    say "installing GNU time (apt package 'time')"
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq time >/dev/null
fi

# timed NAME CMD...: runs CMD under /usr/bin/time -v, output in $out/NAME.out, the
# report in $out/NAME.time; sets WALL (seconds) and RSS_MB.
timed() {
    local name=$1
    shift
    local report=$out/$name.time
    if ! /usr/bin/time -v -o "$report" "$@" >"$out/$name.out" 2>&1; then
        echo "FAILED: $*" >&2
        tail -n 30 "$out/$name.out" >&2
        exit 1
    fi
    WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, p, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + p[i]
        printf "%.2f", s }' "$report")
    RSS_MB=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$report")
    printf '   %-14s %8.2f s  %6s MB peak RSS   (output: %s)\n' "$name" "$WALL" "$RSS_MB" "$out/$name.out"
}

