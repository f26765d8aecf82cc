#!/usr/bin/env bash
# Instruction counts of a function process, for before/after comparisons that do not drift
# on a noisy machine (wall-clock and schedstat figures vary by 10-20% between runs here).
#
#   checks/callgrind.sh [--invocations N] [--event-file PATH] [--emulator PATH] NAME=BINARY...
#
# Each BINARY runs under `valgrind --tool=callgrind` as the function process of
# target/release/faas-emulator (or --emulator's), twice: once stopped (SIGTERM, passed on by the emulator with FAAS_EMULATOR_SIGTERM=always)
# right after its first `GET /next`, once after N invocations (default 200) of the event
# (default: a small JSON object). Prints, per function:
#
#   NAME: start+stop N instructions, per invocation M instructions
#
# where per invocation = (second run - first run) / N. The callgrind files stay in
# target/callgrind/NAME.{init,run}.out for `callgrind_annotate`.
# Build the binaries first (checks/bench.sh leaves them in target/bench). The function
# inherits this script's environment: `_RJEM_MALLOC_CONF=narenas:1 checks/callgrind.sh ...`
# gives jemalloc options at run time (docs/performance.md, "jemalloc's start-up").
set -euo pipefail

invocations=200
event_file=""
emulator=""
functions=()
while [ $# -gt 0 ]; do
    case "$1" in
        --invocations) invocations="$2"; shift 2 ;;
        --event-file) event_file="$2"; shift 2 ;;
        --emulator) emulator="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "callgrind.sh: unknown option: $1" >&2; exit 2 ;;
        *=*) functions+=("$1"); shift ;;
        *) echo "callgrind.sh: give functions as NAME=BINARY, not $1" >&2; exit 2 ;;
    esac
done
[ ${#functions[@]} -gt 0 ] || { echo "callgrind.sh: name at least one NAME=BINARY" >&2; exit 2; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
out_dir="$target_dir/callgrind"
mkdir -p "$out_dir"
emulator="${emulator:-$target_dir/release/faas-emulator}"
if ! command -v valgrind >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind; } >&2
fi
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; } >&2
[ -x "$emulator" ] || (cd "$repo" && cargo build --release --locked -p faas-checks --bin faas-emulator) >&2
event="$(mktemp)"
log="$(mktemp)"
trap 'rm -f "$event" "$log"' EXIT
if [ -n "$event_file" ]; then cp "$event_file" "$event"; else echo '{"name":"world","n":42}' >"$event"; fi

# Runs BINARY under callgrind with COUNT invocations; prints its instruction count.
instructions() {
    local binary="$1" count="$2" file="$3"
    rm -f "$file"
    # FAAS_EMULATOR_SIGTERM=always: the function must get SIGTERM to exit and write its
    # callgrind file (as on Lambda with no extension, the emulator would kill it otherwise).
    FAAS_EMULATOR_SIGTERM=always "$emulator" --api 127.0.0.1:0 --listen 127.0.0.1:0 -- \
        valgrind --tool=callgrind --callgrind-out-file="$file" "$binary" >"$log" 2>&1 &
    local pid=$! addr=""
    for _ in $(seq 600); do
        addr="$(sed -n 's|.*invoke with POST http://\([^/]*\)/.*|\1|p' "$log" | head -n 1)"
        [ -n "$addr" ] && break
        sleep 0.05
    done
    [ -n "$addr" ] || { cat "$log" >&2; kill "$pid"; echo "callgrind.sh: the emulator did not start" >&2; return 1; }
    # With no invocation, give the function (slow under valgrind) 3 s to reach its first
    # GET /next before stopping it.
    for _ in $(seq "$count"); do
        curl -sS -o /dev/null --fail-with-body -d @"$event" \
            "http://$addr/2015-03-31/functions/function/invocations" || { cat "$log" >&2; return 1; }
    done
    [ "$count" -gt 0 ] || sleep 3
    # The emulator passes SIGTERM on to the function and exits when it has; if it has not
    # within 30 s it is killed, and a function killed that way leaves no callgrind file.
    kill -TERM "$pid"
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [ -s "$file" ] || { cat "$log" >&2; echo "callgrind.sh: no callgrind output" >&2; return 1; }
    sed -n 's/^summary: \([0-9]*\).*/\1/p' "$file"
}

for spec in "${functions[@]}"; do
    name="${spec%%=*}"
    binary="${spec#*=}"
    init="$(instructions "$binary" 0 "$out_dir/$name.init.out")"
    run="$(instructions "$binary" "$invocations" "$out_dir/$name.run.out")"
    echo "$name: start+stop $init instructions, per invocation $(((run - init) / invocations)) instructions"
done
