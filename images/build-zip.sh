#!/usr/bin/env bash
# The Lambda deployment package (`provided.al2023`) of the static bootstrap, reproducibly.
#
#   images/build-zip.sh [--target TRIPLE] [--out DIR] [--example NAME]
#
#   --target TRIPLE  x86_64-unknown-linux-musl (the default) or aarch64-unknown-linux-musl
#   --out DIR        where the zip goes (default: target/lambda); the file is
#                    DIR/bootstrap-x86_64.zip or DIR/bootstrap-arm64.zip (Lambda's names for
#                    the two architectures)
#   --example NAME   package runtime/examples/NAME.rs instead of the `bootstrap` binary
#
# The binary is images/build-bootstrap.sh's (reproducible across directories); the archive
# is written by `faas-check zip` (checks/src/bin/faas-check/zip.rs): `bootstrap` alone at
# the root, mode 0755, DOS time 1980-01-01 00:00, no extra fields, deflated by the
# Cargo.lock-pinned pure-Rust deflate. The Nix outputs `packages.zip` and `zip-aarch64` run
# the same program on the Nix-built binary (nix/zip.nix), so the same binary gives the same
# zip, byte for byte, on either path.
#
# Prints three lines on stdout: `path: ...`, `sha256: ...`, `size: N bytes`; cargo's
# progress goes to stderr.
set -euo pipefail

target="x86_64-unknown-linux-musl"
out=""
example=()
while [ $# -gt 0 ]; do
    case "$1" in
        --target) target="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --example) example=(--example "$2"); shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-zip.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
case "$target" in
    x86_64-unknown-linux-musl) arch=x86_64 ;;
    aarch64-unknown-linux-musl) arch=arm64 ;;
    *) echo "build-zip.sh: unsupported target $target (x86_64-unknown-linux-musl or aarch64-unknown-linux-musl)" >&2; exit 2 ;;
esac

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
out="${out:-$target_dir/lambda}"
mkdir -p "$out"
out="$(cd "$out" && pwd -P)"

bin="$("$repo/images/build-bootstrap.sh" --target "$target" "${example[@]}" | sed -n 's/^path: //p')"
[ -n "$bin" ] || { echo "build-zip.sh: build-bootstrap.sh printed no path" >&2; exit 1; }

# faas-check for the build machine: the same program nix/zip.nix runs.
(cd "$repo" && cargo build --release --locked -p faas-checks --bin faas-check) >&2
zip="$out/bootstrap-$arch.zip"
"$target_dir/release/faas-check" zip --out "$zip" "$bin" >&2

echo "path: $zip"
echo "sha256: $(sha256sum "$zip" | cut -d' ' -f1)"
echo "size: $(stat -c %s "$zip") bytes"
