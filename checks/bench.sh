#!/usr/bin/env bash
# Benchmarks our runtime against AWS's own and a C floor on this machine and prints two
# markdown tables with ratios (figures, not a verdict: timings only compare within one run).
#
#   checks/bench.sh [--invocations N] [--json-invocations N] [--starts N] [--out DIR]
#
#   --invocations N       echo invocations per function (default 20000)
#   --json-invocations N  orders-workload invocations per function (default 300)
#   --starts N            fresh starts per function for the init median (default 20)
#   --out DIR             where the figures go as JSON (echo.json, json.json; default
#                         target/bench), read by checks/report.sh for the README's chart
#
# Echo (each function answers its small JSON event unchanged):
#   ours                    checks/peers/ours echo, static musl, jemalloc (the default for bootstrap)
#   ours, jemalloc off      the same with musl's malloc
#   lambda_runtime, musl    AWS's Rust runtime, checks/peers/lambda-runtime echo, default
#                           features, our release profile, static non-PIE musl
#   lambda_runtime, glibc   the same source for x86_64-unknown-linux-gnu with cargo's default
#                           release profile, as `cargo lambda build --release` makes it
#   C floor                 checks/peers/c-floor/echo.c: GET /next, POST /response over one
#                           blocking socket, no JSON parsing (musl-gcc -static)
#   awslambdaric            AWS's Python runtime interface client, checks/peers/python/echo.py
# Orders (a ~512 KB JSON event deserialized into typed structs, a summary serialized back;
# checks/peers/orders): ours, ours with jemalloc off, ours built at opt-level 3 (jemalloc on),
# lambda_runtime musl and glibc.
#
# Each function runs under target/release/faas-emulator, measured by `faas-check bench` (see
# checks/src/bin/faas-check/bench.rs). Installs what a fresh Debian machine lacks. About 3
# minutes once built. Exits non-zero only when something cannot be built or a function
# gives a wrong answer.
set -euo pipefail

invocations=20000
json_invocations=300
starts=20
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --invocations) invocations="$2"; shift 2 ;;
        --json-invocations) json_invocations="$2"; shift 2 ;;
        --starts) starts="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
mkdir -p "$target_dir"
target_dir="$(cd "$target_dir" && pwd -P)"
bench="$target_dir/bench"
out="${out:-$bench}"
mkdir -p "$bench" "$out"
musl="x86_64-unknown-linux-musl"
gnu="x86_64-unknown-linux-gnu"

# What a fresh machine lacks.
if ! command -v musl-gcc >/dev/null; then
    echo "bench.sh: installing musl-tools" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools; } >&2
fi
rustup target list --installed | grep -qx "$musl" || rustup target add "$musl" >&2
if ! python3 -c 'import awslambdaric' 2>/dev/null; then
    echo "bench.sh: installing awslambdaric" >&2
    python3 -m pip install -q awslambdaric==4.2.2 >&2 ||
        python3 -m pip install -q --break-system-packages awslambdaric==4.2.2 >&2
fi
# The musl target's rustflags (relocation-model=static) come from .cargo/config.toml, for
# the lambda_runtime peer too (it lives under this repository); RUSTFLAGS would replace them.
unset RUSTFLAGS

# ours: one build with jemalloc, one without; each binary copied out before the next build.
for variant in jemalloc system; do
    features=()
    [ "$variant" = jemalloc ] && features=(--features jemalloc)
    echo "bench.sh: building ours ($variant allocator)" >&2
    (cd "$repo" && cargo build --release --locked --target "$musl" -p faas-bench-ours \
        --bin echo --bin json "${features[@]}") >&2
    mkdir -p "$bench/ours-$variant"
    install -m 0555 "$target_dir/$musl/release/echo" "$target_dir/$musl/release/json" \
        "$bench/ours-$variant/"
done

# The orders function once more at opt-level 3 (cargo's default, which lambda_runtime's glibc
# build below uses): the profile choice a JSON-heavy function can make; its own target dir,
# since every dependency is rebuilt at that level.
echo "bench.sh: building ours' orders function at opt-level 3" >&2
(cd "$repo" && cargo build --release --locked --target "$musl" -p faas-bench-ours --bin json \
    --features jemalloc --config 'profile.release.opt-level=3' --target-dir "$target_dir/bench-o3") >&2
install -m 0555 "$target_dir/bench-o3/$musl/release/json" "$bench/ours-jemalloc/json-o3"

echo "bench.sh: building the lambda_runtime peer (musl, our profile; glibc, cargo's default profile)" >&2
(cd "$repo/checks/peers/lambda-runtime" &&
    cargo build --release --locked --target "$musl" --target-dir "$target_dir/peers" &&
    cargo build --profile release-default --locked --target "$gnu" --target-dir "$target_dir/peers") >&2
peer_musl="$target_dir/peers/$musl/release"
peer_gnu="$target_dir/peers/$gnu/release-default"

echo "bench.sh: building the C floor" >&2
musl-gcc -static -no-pie -Os -s -Wall -Wextra -Werror -o "$bench/c-floor" \
    "$repo/checks/peers/c-floor/echo.c"

echo "bench.sh: making the orders event" >&2
python3 "$repo/checks/peers/orders/make_event.py" "$bench/orders-event.json" "$bench/orders-expected.json"

echo "bench.sh: building faas-check and faas-emulator" >&2
(cd "$repo" && cargo build --release --locked -p faas-checks \
    --bin faas-check --bin faas-emulator) >&2
check="$target_dir/release/faas-check"

echo "## Echo"
echo
"$check" bench --invocations "$invocations" --starts "$starts" --baseline ours \
    --json "$out/echo.json" \
    "ours=$bench/ours-jemalloc/echo" \
    "ours, jemalloc off=$bench/ours-system/echo" \
    "lambda_runtime, musl=$peer_musl/echo" \
    "lambda_runtime, glibc=$peer_gnu/echo" \
    "C floor=$bench/c-floor" \
    "awslambdaric=env PYTHONPATH=$repo/checks/peers/python python3 -m awslambdaric echo.handler"
echo
echo "## Orders (JSON workload)"
echo
"$check" bench --invocations "$json_invocations" --starts "$starts" --baseline ours \
    --event-file "$bench/orders-event.json" --expect-file "$bench/orders-expected.json" \
    --json "$out/json.json" \
    "ours=$bench/ours-jemalloc/json" \
    "ours, jemalloc off=$bench/ours-system/json" \
    "ours, opt-level 3=$bench/ours-jemalloc/json-o3" \
    "lambda_runtime, musl=$peer_musl/json" \
    "lambda_runtime, glibc=$peer_gnu/json"
