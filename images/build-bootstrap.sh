#!/usr/bin/env bash
# Reproducible host build of the static musl `bootstrap` (or one example) for the images.
#
#   images/build-bootstrap.sh [--example NAME] [--features LIST] [--out DIR] [--target TRIPLE]
#
#   --example NAME   build runtime/examples/NAME.rs instead of the `bootstrap` binary
#   --features LIST  cargo features of faas-runtime to add to the defaults (`http` for the
#                    http_axum example)
#   --out DIR        also copy the result to DIR/bootstrap, ready for
#                    `buildah build --build-context bootstrap=DIR ...`
#   --target TRIPLE  x86_64-unknown-linux-musl (the default) or aarch64-unknown-linux-musl
#                    (Graviton); both static, non-PIE (.cargo/config.toml), with jemalloc
#
# Reproducible means: the same source gives the same bytes whatever directory it is built
# in. Rust paths (panic locations) of the workspace, the target dir and $CARGO_HOME are
# remapped to /build, /build/target and /cargo (the paths the Dockerfiles' builders use),
# C code (jemalloc) gets the same maps through -ffile-prefix-map, and nothing is stamped
# with the build time. The release profile already strips symbols and debug info.
#
# Prints three lines on stdout: `path: ...`, `sha256: ...`, `size: N bytes`;
# cargo's progress goes to stderr.
set -euo pipefail

example=""
features=""
out=""
target="x86_64-unknown-linux-musl"
while [ $# -gt 0 ]; do
    case "$1" in
        --example) example="$2"; shift 2 ;;
        --features) features="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --target) target="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-bootstrap.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cargo_home="$(cd "${CARGO_HOME:-$HOME/.cargo}" 2>/dev/null && pwd -P || echo "${CARGO_HOME:-$HOME/.cargo}")"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
mkdir -p "$target_dir"
target_dir="$(cd "$target_dir" && pwd -P)"

# Tools a fresh machine may lack.
apt_install() {
    echo "build-bootstrap.sh: installing $*" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >&2
}
case "$target" in
    x86_64-unknown-linux-musl)
        command -v musl-gcc >/dev/null || apt_install musl-tools
        ;;
    aarch64-unknown-linux-musl)
        # jemalloc's C code: Debian's aarch64 cross gcc on musl's arm64 headers (multiarch
        # musl-dev:arm64), through images/aarch64-linux-musl-gcc (.cargo/config.toml names
        # it, and rust-lld as the linker).
        if ! command -v aarch64-linux-gnu-gcc >/dev/null || [ ! -f /usr/include/aarch64-linux-musl/stdlib.h ]; then
            dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
            apt_install gcc-aarch64-linux-gnu musl-dev:arm64
        fi
        ;;
    *)
        echo "build-bootstrap.sh: unsupported target $target (x86_64-unknown-linux-musl or aarch64-unknown-linux-musl)" >&2
        exit 2
        ;;
esac
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    rustup target add "$target" >&2
fi

# Most specific prefix last: rustc applies the last matching --remap-path-prefix.
remaps=("$cargo_home=/cargo" "$repo=/build" "$target_dir=/build/target")
rustflags=""  # a TOML array body: merged with .cargo/config.toml's flags for the target
cflags=""
for m in "${remaps[@]}"; do
    rustflags+="'--remap-path-prefix=$m',"
    cflags+=" -ffile-prefix-map=$m"
done
# Passed with --config, not RUSTFLAGS: RUSTFLAGS would replace the target's rustflags in
# .cargo/config.toml (relocation-model=static) instead of adding to them.
unset RUSTFLAGS
target_env="$(echo "$target" | tr '-' '_')"
export "CFLAGS_${target_env}=${cflags# }"
export SOURCE_DATE_EPOCH=0
export CARGO_TARGET_DIR="$target_dir"

args=(--config "target.$target.rustflags=[${rustflags%,}]" build --release --target "$target" -p faas-runtime)
[ -f "$repo/Cargo.lock" ] && args+=(--locked)
[ -n "$features" ] && args+=(--features "$features")
if [ -n "$example" ]; then
    args+=(--example "$example")
    bin="$target_dir/$target/release/examples/$example"
else
    args+=(--bin bootstrap)
    bin="$target_dir/$target/release/bootstrap"
fi
(cd "$repo" && cargo "${args[@]}") >&2

if [ -n "$out" ]; then
    mkdir -p "$out"
    install -m 0555 "$bin" "$out/bootstrap"
    bin="$(cd "$out" && pwd -P)/bootstrap"
fi
echo "path: $bin"
echo "sha256: $(sha256sum "$bin" | cut -d' ' -f1)"
echo "size: $(stat -c %s "$bin") bytes"
