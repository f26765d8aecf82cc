#!/usr/bin/env bash
# Benchmarks our runtime against AWS's own on this machine and prints a markdown table with
# ratios (figures, not a verdict: timings only compare within one run).
#
#   checks/bench.sh [--invocations N] [--starts N]      (defaults 2000 and 20)
#
# The three functions all echo their JSON event:
#   ours            runtime/examples/echo.rs, static musl (images/build-bootstrap.sh --example echo)
#   lambda_runtime  AWS's Rust runtime, checks/peers/lambda-runtime-echo (same release profile,
#                   same static non-PIE musl flags from .cargo/config.toml, its own Cargo.lock)
#   awslambdaric    AWS's Python runtime interface client, checks/peers/python/echo.py
# each under target/release/faas-emulator, measured by `faas-check bench` (see its docs in
# checks/src/bin/faas-check/bench.rs). Installs what a fresh Debian machine lacks.
# Exits non-zero only when something cannot be built or a function does not echo.
set -euo pipefail

invocations=2000
starts=20
while [ $# -gt 0 ]; do
    case "$1" in
        --invocations) invocations="$2"; shift 2 ;;
        --starts) starts="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
mkdir -p "$target_dir"
target_dir="$(cd "$target_dir" && pwd -P)"
musl="x86_64-unknown-linux-musl"

# musl-tools and the rustup target: images/build-bootstrap.sh installs them, and it runs
# before the peer is built. awslambdaric is this script's own need.
if ! python3 -c 'import awslambdaric' 2>/dev/null; then
    echo "bench.sh: installing awslambdaric" >&2
    python3 -m pip install -q awslambdaric==4.2.2 >&2 ||
        python3 -m pip install -q --break-system-packages awslambdaric==4.2.2 >&2
fi
# The target's rustflags (relocation-model=static) come from .cargo/config.toml, for the peer
# too (it lives under this repository); RUSTFLAGS would replace them.
unset RUSTFLAGS

echo "bench.sh: building ours (runtime/examples/echo.rs)" >&2
ours_build="$("$repo/images/build-bootstrap.sh" --example echo --out "$target_dir/bench/ours")"
echo "$ours_build" | sed 's/^/ours /' >&2
ours="$(echo "$ours_build" | sed -n 's/^path: //p')"

echo "bench.sh: building the lambda_runtime peer" >&2
(cd "$repo/checks/peers/lambda-runtime-echo" &&
    CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release --locked \
        --target "$musl" --target-dir "$target_dir/peers") >&2
peer="$target_dir/peers/$musl/release/bootstrap"

echo "bench.sh: building faas-check and faas-emulator" >&2
(cd "$repo" && cargo build --release --locked -p faas-checks \
    --bin faas-check --bin faas-emulator) >&2

exec "$target_dir/release/faas-check" bench \
    --invocations "$invocations" --starts "$starts" --baseline ours \
    "ours=$ours" \
    "lambda_runtime=$peer" \
    "awslambdaric=env PYTHONPATH=$repo/checks/peers/python python3 -m awslambdaric echo.handler"
