#!/usr/bin/env bash
# Evaluates the flake against nix/tests/nixpkgs-stub and checks the Nix format: what can be
# verified on a machine without the Nix binary cache or GitHub (Debian's Nix 2.8).
#
#   nix/tests/eval.sh
#
# Steps: nix flake metadata, nix flake show, nix flake check --no-build (all with
# `--override-input nixpkgs path:nix/tests/nixpkgs-stub --no-write-lock-file`), the same for
# the user-function example (lib.mkFunctionImage), and `nixpkgs-fmt --check` on the Nix files.
# Installs nix-bin (apt) and nixpkgs-fmt (cargo install, ~30 s) when missing.
#
# A flake inside a git repository sees only the files git knows: in a fresh clone everything
# is there; after adding a file locally, `git add` it first (edits to tracked files are seen).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$root"

log() { printf '%s\n' "$*" >&2; }

# 1) Tools.
if ! command -v nix >/dev/null; then
    log "eval.sh: installing nix-bin"
    { apt-get update -qq && apt-get install -y -qq nix-bin; } >&2 || { log "eval.sh: cannot install nix-bin"; exit 1; }
fi
export PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"
if ! command -v nixpkgs-fmt >/dev/null; then
    log "eval.sh: installing nixpkgs-fmt 1.3.0 from crates.io (about 30 s)"
    cargo install nixpkgs-fmt --version 1.3.0 --locked --quiet >&2 || { log "eval.sh: cannot install nixpkgs-fmt"; exit 1; }
fi

# 2) Nix as root without a daemon, no substituters (none is reachable here).
export NIX_CONFIG=$'experimental-features = nix-command flakes\nbuild-users-group =\nsubstituters =\n'

# Files the flake needs but git does not know are invisible to it: say so up front.
untracked="$(git ls-files --others --exclude-standard -- flake.nix flake.lock nix Cargo.toml Cargo.lock .cargo runtime checks 2>/dev/null)"
if [ -n "$untracked" ]; then
    log "eval.sh: warning: these files are not known to git, so the flake does not see them (git add them):"
    printf '  %s\n' $untracked >&2
fi

stub=(--override-input nixpkgs "path:$root/nix/tests/nixpkgs-stub" --no-write-lock-file)
example="path:$root/nix/tests/user-function"
example_inputs=(--override-input faas-runtime "git+file://$root" "${stub[@]}")

passed=0
failed=0
step() {
    local name="$1"
    shift
    local out
    if out="$("$@" 2>&1)"; then
        passed=$((passed + 1))
        printf 'PASS  %s\n' "$name"
    else
        failed=$((failed + 1))
        printf 'FAIL  %s\n' "$name"
        printf '%s\n' "$out" | tail -n 40 | sed 's/^/      /'
    fi
}

# 3) Evaluation against the stub.
step "nix flake metadata" nix flake metadata "${stub[@]}" .
step "nix flake show" nix flake show "${stub[@]}" .
step "nix flake check --no-build" nix flake check --no-build "${stub[@]}" .
step "user-function example: nix flake check --no-build" \
    nix flake check --no-build "${example_inputs[@]}" "$example"

# 4) Format: every Nix file git knows, as `nix fmt` would leave it.
mapfile -t nix_files < <(git ls-files --cached --others --exclude-standard -- '*.nix')
step "nixpkgs-fmt --check (${#nix_files[@]} files)" nixpkgs-fmt --check "${nix_files[@]}"

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
