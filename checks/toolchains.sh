#!/usr/bin/env bash
# The Rust toolchains the project promises besides the current stable that `make lint` and
# `make rust-tests` use:
#
#   NIXPKGS_RUST  the rustc of the nixpkgs that flake.lock pins (what `nix build` and
#                 `nix flake check` compile with): rustfmt --check (the flake's rustfmt
#                 check), clippy -D warnings with the default features (the flake's clippy
#                 check) and with all features (what `make lint` lints on stable), the
#                 unit, end-to-end and conformance suites;
#   MSRV          Cargo.toml's rust-version: the workspace builds (debug profile), with a C
#                 compiler that hardens like nixpkgs' (fortify), so jemalloc's debug build is
#                 proved to survive it (the dev-profile opt-level in Cargo.toml).
#
#   checks/toolchains.sh
#
# Each toolchain is installed with rustup (minimal profile) and builds in its own target
# directory (target/toolchain-<version>), so nothing is shared with stable's target/.
# When flake.lock moves: update NIXPKGS_REV and NIXPKGS_RUST below (the script fails until
# NIXPKGS_REV matches the lock). When rust-version moves: update MSRV (checked likewise).
# Ends with `N passed, N failed`.
set -uo pipefail

NIXPKGS_REV=8fd9daa3db09ced9700431c5b7ad0e8ba199b575   # flake.lock's nixpkgs (nixos-25.11)
NIXPKGS_RUST=1.91.1                                    # its rustc (pkgs/development/compilers/rust)
MSRV=1.85.0                                            # [workspace.package] rust-version

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"
musl=x86_64-unknown-linux-musl

passed=0
failed=0
step() {
    local name="$1"
    shift
    local log
    log="$(mktemp)"
    local start=$SECONDS
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        printf 'PASS  %s (%d s)\n' "$name" $((SECONDS - start))
    else
        failed=$((failed + 1))
        printf 'FAIL  %s (%d s)\n' "$name" $((SECONDS - start))
        tail -n 40 "$log" | sed 's/^/      /'
    fi
    rm -f "$log"
}

# 0) The pins agree with the files they come from.
lock_rev="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["nodes"]["nixpkgs"]["locked"]["rev"])' flake.lock)"
step "NIXPKGS_REV is flake.lock's nixpkgs rev ($lock_rev)" test "$lock_rev" = "$NIXPKGS_REV"
declared="$(python3 -c 'import tomllib,sys; print(tomllib.load(open(sys.argv[1],"rb"))["workspace"]["package"]["rust-version"])' Cargo.toml)"
step "MSRV $MSRV is Cargo.toml's rust-version ($declared)" test "${MSRV%.*}" = "$declared"

# 1) Toolchains, installed by rustup itself (a fresh machine has only stable).
install_toolchain() {
    rustup toolchain install "$@" --profile minimal --no-self-update >&2
}
if ! install_toolchain "$NIXPKGS_RUST" -c clippy,rustfmt -t "$musl" || ! install_toolchain "$MSRV"; then
    echo "toolchains.sh: rustup cannot install $NIXPKGS_RUST or $MSRV" >&2
    exit 1
fi
command -v musl-gcc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools; } >&2

# 2) The nixpkgs Rust: clippy and the suites.
nix_target="$root/target/toolchain-$NIXPKGS_RUST"
with_nix_rust() { RUSTUP_TOOLCHAIN="$NIXPKGS_RUST" CARGO_TARGET_DIR="$nix_target" "$@"; }
step "rust $NIXPKGS_RUST: cargo fmt --all --check (nix/checks/rustfmt.nix)" \
    with_nix_rust cargo fmt --all --check
step "rust $NIXPKGS_RUST: cargo clippy --workspace --all-targets -D warnings, default features (nix/checks/clippy.nix)" \
    with_nix_rust cargo clippy --workspace --all-targets --locked -- -D warnings
step "rust $NIXPKGS_RUST: cargo clippy --workspace --all-targets --all-features -D warnings" \
    with_nix_rust cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
step "rust $NIXPKGS_RUST: build the workspace's binaries and examples" \
    with_nix_rust cargo build --workspace --bins --examples --locked
# The static musl bootstrap is not rebuilt with this Rust (an LTO release build, minutes of CI
# time): the static-binary suite checks stable's (`make static`), and the Nix build, which uses
# this Rust, has its own size check relative to the Dockerfile image (nix/checks/image-size.nix).
static_bootstrap="${FAAS_STATIC_BOOTSTRAP:-$root/target/$musl/release/bootstrap}"
step "rust $NIXPKGS_RUST: cargo test --workspace (unit, doc, end-to-end, conformance; static suite on stable's binary)" \
    env FAAS_STATIC_BOOTSTRAP="$static_bootstrap" RUSTUP_TOOLCHAIN="$NIXPKGS_RUST" CARGO_TARGET_DIR="$nix_target" \
    cargo test --workspace --all-features --locked --no-fail-fast

# 3) The MSRV, through a C compiler that hardens like nixpkgs' cc-wrapper.
# pkgs/build-support/cc-wrapper/add-hardening.sh (fortify3, which the default hardening flags
# hold and which then replaces fortify): `-O2 -U_FORTIFY_SOURCE` before the caller's flags,
# `-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3` after, so a caller's -O0 wins. glibc's
# features.h then warns "_FORTIFY_SOURCE requires compiling with optimization (-O)" wherever a
# libc header is included. Debian's gcc hides warnings from system headers and nixpkgs' does
# not, so a features.h in a non-system directory adds the same test after the real one.
# jemalloc's configure checks (strerror_r's return type) compile with -Werror and fail on it.
wrapper_dir="$(mktemp -d /tmp/faas-toolchains.XXXXXX)"
trap 'rm -rf "$wrapper_dir"' EXIT
mkdir "$wrapper_dir/include"
cat >"$wrapper_dir/include/features.h" <<'EOF'
#include_next <features.h>
#if defined _FORTIFY_SOURCE && _FORTIFY_SOURCE > 0 && (!defined __OPTIMIZE__ || __OPTIMIZE__ <= 0)
# warning _FORTIFY_SOURCE requires compiling with optimization (-O)
#endif
EOF
cat >"$wrapper_dir/cc" <<EOF
#!/bin/sh
exec cc -O2 -U_FORTIFY_SOURCE "\$@" -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -I$wrapper_dir/include
EOF
chmod +x "$wrapper_dir/cc"
# The wrapper must reproduce the failure, or the build below proves nothing.
printf '#include <string.h>\nint main(void) { return 0; }\n' >"$wrapper_dir/t.c"
step "the fortify wrapper fails -O0 -Werror on a libc header, passes -O1" \
    sh -c '! "$0/cc" -O0 -Werror -c "$0/t.c" -o "$0/t.o" && "$0/cc" -O1 -Werror -c "$0/t.c" -o "$0/t.o"' "$wrapper_dir"
step "rust $MSRV (MSRV): cargo build --workspace, C compiled with nixpkgs-style fortify" \
    env RUSTUP_TOOLCHAIN="$MSRV" CARGO_TARGET_DIR="$root/target/toolchain-$MSRV" \
    CC_x86_64_unknown_linux_gnu="$wrapper_dir/cc" cargo build --workspace --locked

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
