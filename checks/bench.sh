#!/usr/bin/env bash
# Benchmarks our runtime against AWS's own and a C floor on this machine and prints two
# markdown tables with ratios (figures, not a verdict: timings only compare within one run).
#
#   checks/bench.sh [--invocations N] [--json-invocations N] [--http-invocations N] [--starts N]
#                   [--concurrency-invocations N] [--only concurrency]
#                   [--out DIR] [--local-feature auto|yes|no]
#
#   --invocations N       echo invocations per function (default 20000)
#   --json-invocations N  orders-workload invocations per function (default 300)
#   --http-invocations N  HTTP-workload invocations per function (default 5000)
#   --starts N            fresh starts per function for the init median (default 20)
#   --concurrency-invocations N  invocations per function and level of the concurrency rows
#                         (default 5000)
#   --only concurrency    build and run only the concurrency rows (a quick look at them)
#   --out DIR             where the figures go as JSON (echo.json, json.json; default
#                         target/bench), read by checks/report.sh for the README's chart
#   --local-feature X       whether the faas-runtime crate has a `local` cargo feature (local
#                           mode, on by default): auto (default) reads runtime/Cargo.toml's
#                           [features]; with it, ours is also built without local mode
#
# Every build is static musl with our release profile unless said otherwise; each runtime
# with both allocators, so that ratios compare like with like (checks/bench_report.py):
#   ours, jemalloc              checks/peers/ours echo, jemalloc (as bootstrap ships), local mode
#                               when the crate has the feature (as bootstrap has it)
#   ours, musl malloc           the same with musl's malloc
#   ours, jemalloc, no local mode     built as a Lambda-only deployment builds it:
#   ours, musl malloc, no local mode  `--no-default-features` without `local` (only when
#                                     the crate has the feature)
#   lambda_runtime, musl malloc AWS's Rust runtime, checks/peers/lambda-runtime echo, default
#                               features, musl's malloc
#   lambda_runtime, jemalloc    the same with tikv-jemallocator as its global allocator (the
#                               version and features of ours)
#   lambda_runtime, glibc       the same source for x86_64-unknown-linux-gnu with cargo's
#                               default release profile, as `cargo lambda build --release` makes it
#   C floor                     checks/peers/c-floor/echo.c: GET /next, POST /response over one
#                               blocking socket, no JSON parsing (musl-gcc -static)
#   awslambdaric                AWS's Python runtime interface client, checks/peers/python/echo.py
# Orders (a ~512 KB JSON event deserialized into typed structs, a summary serialized back;
# checks/peers/orders): the same Rust builds, and ours with jemalloc built at opt-level 3.
# HTTP (the axum app of runtime/examples/http_axum/app.rs answering a function URL event for
# GET /pets/1): ours (`run_http`, the crate's default features plus `http`) and AWS's
# `lambda_http` (runtime/examples/http_axum_lambda_http.rs, the same app module), both static
# musl with our release profile and musl's malloc (neither example sets an allocator).
# Concurrency (Lambda Managed Instances, issue 16): ours (checks/peers/ours `echo` and `sleep`,
# jemalloc) and `lambda_runtime::run_concurrent` (checks/peers/lambda-runtime `echo_concurrent`
# and `sleep_concurrent`, jemalloc) under `faas-emulator --max-concurrency C` for C = 1, 8, 64,
# as many keep-alive callers: echo, and `{"ms":1}` (a handler awaiting a 1 ms timer), measured
# by `faas-check concurrency` (throughput, CPU per invocation, peak RSS).
#
# Each function runs under target/release/faas-emulator, measured by `faas-check bench` (see
# checks/src/bin/faas-check/bench.rs). Installs what a fresh Debian machine lacks. About 3
# minutes once built. Exits non-zero only when something cannot be built or a function
# gives a wrong answer.
set -euo pipefail

invocations=20000
json_invocations=300
http_invocations=5000
starts=20
concurrency_invocations=5000
only=""
out=""
local_feature=auto
while [ $# -gt 0 ]; do
    case "$1" in
        --invocations) invocations="$2"; shift 2 ;;
        --json-invocations) json_invocations="$2"; shift 2 ;;
        --http-invocations) http_invocations="$2"; shift 2 ;;
        --starts) starts="$2"; shift 2 ;;
        --concurrency-invocations) concurrency_invocations="$2"; shift 2 ;;
        --only) only="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --local-feature) local_feature="$2"; shift 2 ;;
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

if [ "$local_feature" = auto ]; then
    local_feature="$(python3 -c 'import sys, tomllib
features = tomllib.load(open(sys.argv[1], "rb")).get("features", {})
print("yes" if "local" in features else "no")' "$repo/runtime/Cargo.toml")"
fi
case "$local_feature" in
    yes|no) ;;
    *) echo "bench.sh: --local-feature auto, yes or no, not $local_feature" >&2; exit 2 ;;
esac
case "$only" in
    ""|concurrency) ;;
    *) echo "bench.sh: --only concurrency, not $only" >&2; exit 2 ;;
esac

# ours: with jemalloc and without, each with local mode as bootstrap has it and, when the
# crate has the feature, without; each binary copied out before the next build. The bench
# crate's faas-runtime has no default features: local mode is asked for by name.
variants=(jemalloc system)
[ "$local_feature" = yes ] && variants+=(jemalloc-nolocal system-nolocal)
[ "$only" = concurrency ] && variants=(jemalloc)
for variant in "${variants[@]}"; do
    features=()
    case "$variant" in
        jemalloc) features=(--features jemalloc) ;;
        jemalloc-nolocal) features=(--no-default-features --features jemalloc) ;;
        system-nolocal) features=(--no-default-features) ;;
    esac
    if [ "$local_feature" = yes ] && [ "${variant%-nolocal}" = "$variant" ]; then
        features+=(--features faas-runtime/local)
    fi
    echo "bench.sh: building ours ($variant: ${features[*]})" >&2
    (cd "$repo" && cargo build --release --locked --target "$musl" -p faas-bench-ours \
        --bin echo --bin json --bin sleep "${features[@]}") >&2
    mkdir -p "$bench/ours-$variant"
    install -m 0555 "$target_dir/$musl/release/echo" "$target_dir/$musl/release/json" \
        "$target_dir/$musl/release/sleep" "$bench/ours-$variant/"
done

# concurrency_rows: ours vs lambda_runtime's run_concurrent, both jemalloc, at 1, 8 and 64.
concurrency_rows() {
    echo "## Concurrency (Lambda Managed Instances): echo"
    echo
    "$check" concurrency --levels 1,8,64 --invocations "$concurrency_invocations" \
        --workload echo --json "$out/concurrency-echo.json" \
        "ours, jemalloc=$bench/ours-jemalloc/echo" \
        "lambda_runtime, jemalloc=$bench/lambda-runtime-jemalloc/echo_concurrent"
    echo
    echo "## Concurrency (Lambda Managed Instances): a handler awaiting a 1 ms timer"
    echo
    "$check" concurrency --levels 1,8,64 --invocations "$concurrency_invocations" \
        --workload sleep --event '{"ms":1}' --expect '{"slept_ms":1}' \
        --json "$out/concurrency-sleep.json" \
        "ours, jemalloc=$bench/ours-jemalloc/sleep" \
        "lambda_runtime, jemalloc=$bench/lambda-runtime-jemalloc/sleep_concurrent"
}

if [ "$only" = concurrency ]; then
    echo "bench.sh: building the lambda_runtime peer (musl, jemalloc, our profile)" >&2
    (cd "$repo/checks/peers/lambda-runtime" &&
        cargo build --release --locked --target "$musl" --target-dir "$target_dir/peers" --features jemalloc) >&2
    mkdir -p "$bench/lambda-runtime-jemalloc"
    install -m 0555 "$target_dir/peers/$musl/release/echo_concurrent" \
        "$target_dir/peers/$musl/release/sleep_concurrent" "$bench/lambda-runtime-jemalloc/"
    (cd "$repo" && cargo build --release --locked -p faas-checks --bin faas-check --bin faas-emulator) >&2
    check="$target_dir/release/faas-check"
    concurrency_rows
    exit 0
fi

# The orders function once more at opt-level 3 (cargo's default, which lambda_runtime's glibc
# build below uses): the profile choice a JSON-heavy function can make; its own target dir,
# since every dependency is rebuilt at that level.
echo "bench.sh: building ours' orders function at opt-level 3" >&2
(cd "$repo" && cargo build --release --locked --target "$musl" -p faas-bench-ours --bin json \
    --features jemalloc $([ "$local_feature" = yes ] && echo --features faas-runtime/local) \
    --config 'profile.release.opt-level=3' --target-dir "$target_dir/bench-o3") >&2
install -m 0555 "$target_dir/bench-o3/$musl/release/json" "$bench/ours-jemalloc/json-o3"


echo "bench.sh: building the lambda_runtime peer (musl with each allocator, our profile; glibc, cargo's default profile)" >&2
for variant in jemalloc system; do
    features=()
    [ "$variant" = jemalloc ] && features=(--features jemalloc)
    (cd "$repo/checks/peers/lambda-runtime" &&
        cargo build --release --locked --target "$musl" --target-dir "$target_dir/peers" "${features[@]}") >&2
    mkdir -p "$bench/lambda-runtime-$variant"
    install -m 0555 "$target_dir/peers/$musl/release/echo" "$target_dir/peers/$musl/release/json" \
        "$target_dir/peers/$musl/release/echo_concurrent" \
        "$target_dir/peers/$musl/release/sleep_concurrent" "$bench/lambda-runtime-$variant/"
done
(cd "$repo/checks/peers/lambda-runtime" &&
    cargo build --profile release-default --locked --target "$gnu" --target-dir "$target_dir/peers") >&2
peer_gnu="$target_dir/peers/$gnu/release-default"

echo "bench.sh: building the C floor" >&2
musl-gcc -static -no-pie -Os -s -Wall -Wextra -Werror -o "$bench/c-floor" \
    "$repo/checks/peers/c-floor/echo.c"

echo "bench.sh: making the orders event" >&2
python3 "$repo/checks/peers/orders/make_event.py" "$bench/orders-event.json" "$bench/orders-expected.json"

echo "bench.sh: building the axum app on ours and on lambda_http" >&2
(cd "$repo" && cargo build --release --locked --target "$musl" -p faas-runtime --features http \
    --example http_axum --example http_axum_lambda_http) >&2
mkdir -p "$bench/http"
install -m 0555 "$target_dir/$musl/release/examples/http_axum" \
    "$target_dir/$musl/release/examples/http_axum_lambda_http" "$bench/http/"
# The event, and the answer each runtime shapes for it (lambda_http adds an empty
# `multiValueHeaders`; README "HTTP functions" lists the differences).
python3 - "$repo/runtime/tests/data/http/lambda_function_url_request.json" "$bench/http" <<'EOF'
import json, sys
event = json.load(open(sys.argv[1]))
event.update(rawPath="/pets/1", rawQueryString="", isBase64Encoded=False)
event.pop("body", None)
event["requestContext"]["http"].update(method="GET", path="/pets/1")
json.dump(event, open(f"{sys.argv[2]}/event.json", "w"))
answer = {"statusCode": 200,
          "headers": {"content-type": "application/json", "content-length": "34"},
          "cookies": [], "body": '{"id":1,"kind":"dog","name":"Rex"}', "isBase64Encoded": False}
json.dump(answer, open(f"{sys.argv[2]}/expected.json", "w"))
json.dump(dict(answer, multiValueHeaders={}), open(f"{sys.argv[2]}/expected-lambda_http.json", "w"))
EOF

echo "bench.sh: building faas-check and faas-emulator" >&2
(cd "$repo" && cargo build --release --locked -p faas-checks \
    --bin faas-check --bin faas-emulator) >&2
check="$target_dir/release/faas-check"

# The Rust functions of both workloads, NAME=DIRECTORY (the names checks/bench_report.py reads).
rust=("ours, jemalloc=$bench/ours-jemalloc" "ours, musl malloc=$bench/ours-system")
if [ "$local_feature" = yes ]; then
    rust+=("ours, jemalloc, no local mode=$bench/ours-jemalloc-nolocal"
        "ours, musl malloc, no local mode=$bench/ours-system-nolocal")
fi
rust+=("lambda_runtime, jemalloc=$bench/lambda-runtime-jemalloc"
    "lambda_runtime, musl malloc=$bench/lambda-runtime-system"
    "lambda_runtime, glibc=$peer_gnu")
# functions BINARY: NAME=DIRECTORY/BINARY for each of them.
functions() { for spec in "${rust[@]}"; do echo "${spec%%=*}=${spec#*=}/$1"; done; }
mapfile -t echo_functions < <(functions echo)
mapfile -t json_functions < <(functions json)

echo "## Echo"
echo
"$check" bench --invocations "$invocations" --starts "$starts" --baseline "ours, jemalloc" \
    --json "$out/echo.json" \
    "${echo_functions[@]}" \
    "C floor=$bench/c-floor" \
    "awslambdaric=env PYTHONPATH=$repo/checks/peers/python python3 -m awslambdaric echo.handler"
echo
echo "## Orders (JSON workload)"
echo
"$check" bench --invocations "$json_invocations" --starts "$starts" --baseline "ours, jemalloc" \
    --event-file "$bench/orders-event.json" --expect-file "$bench/orders-expected.json" \
    --json "$out/json.json" \
    "${json_functions[@]}" \
    "ours, jemalloc, opt-level 3=$bench/ours-jemalloc/json-o3"
echo
echo "## HTTP (axum app, function URL event)"
echo
"$check" bench --invocations "$http_invocations" --starts "$starts" --baseline "ours, run_http" \
    --event-file "$bench/http/event.json" --expect-file "$bench/http/expected.json" \
    --expect-file "$bench/http/expected-lambda_http.json" --json "$out/http.json" \
    "ours, run_http=$bench/http/http_axum" \
    "lambda_http=$bench/http/http_axum_lambda_http"
echo
concurrency_rows
