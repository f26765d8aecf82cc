#!/usr/bin/env bash
# What can be verified of the Nix flake on a machine without the Nix binary cache or GitHub
# (Debian's Nix 2.8), against the strict stub nix/tests/nixpkgs-stub:
#
#   nix/tests/eval.sh
#
# 1. evaluation: nix flake metadata / show / check --no-build, and the user-function example;
# 2. attribute tests (nix/tests/attributes.py): cargo flags, target, the rustflags cargo
#    applies, strip, allowedReferences, hardening of every derivation compiling jemalloc,
#    image config against the Dockerfiles, architecture;
# 3. negative tests: each defect class injected into a temporary copy of the tree (the tracked
#    tree is never touched) must make step 1 or 2 fail with the expected message, so the
#    strictness cannot rot silently;
# 4. nixpkgs-fmt --check on the Nix files; zizmor --offline on the GitHub workflows.
#
# Installs what it lacks: nix-bin (apt), nixpkgs-fmt 1.3.0 (cargo install, ~30 s), zizmor
# (pip). A flake inside a git repository sees only the files git knows: in a fresh clone
# everything is there; after adding a file locally, `git add` it first.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$root"

log() { printf '%s\n' "$*" >&2; }

# 1) Tools.
if ! command -v nix >/dev/null; then
    log "eval.sh: installing nix-bin"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 nix-bin; } >&2 ||
        { log "eval.sh: cannot install nix-bin"; exit 1; }
fi
export PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.local/bin"
if ! command -v nixpkgs-fmt >/dev/null; then
    log "eval.sh: installing nixpkgs-fmt 1.3.0 from crates.io (about 30 s)"
    cargo install nixpkgs-fmt --version 1.3.0 --locked --quiet >&2 || { log "eval.sh: cannot install nixpkgs-fmt"; exit 1; }
fi
zizmor_version=1.32.0
if [ "$(zizmor --version 2>/dev/null)" != "zizmor $zizmor_version" ]; then
    log "eval.sh: installing zizmor $zizmor_version from PyPI"
    { python3 -m pip install -q "zizmor==$zizmor_version" || python3 -m pip install -q --break-system-packages "zizmor==$zizmor_version"; } >&2 ||
        { log "eval.sh: cannot install zizmor"; exit 1; }
    hash -r
fi

# Nix as root without a daemon, no substituters (none is reachable here).
export NIX_CONFIG=$'experimental-features = nix-command flakes\nbuild-users-group =\nsubstituters =\n'

# Files the flake needs but git does not know are invisible to it: say so up front.
untracked="$(git ls-files --others --exclude-standard -- flake.nix flake.lock nix Cargo.toml Cargo.lock .cargo runtime checks images 2>/dev/null)"
if [ -n "$untracked" ]; then
    log "eval.sh: warning: these files are not known to git, so the flake does not see them (git add them):"
    printf '  %s\n' $untracked >&2
fi

stub_path="$root/nix/tests/nixpkgs-stub"
stub=(--override-input nixpkgs "path:$stub_path" --no-write-lock-file)
example="path:$root/nix/tests/user-function"
example_inputs=(--override-input faas-runtime "git+file://$root" "${stub[@]}")

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$1"; }
fail() {
    failed=$((failed + 1))
    printf 'FAIL  %s\n' "$1"
    printf '%s\n' "$2" | grep -v '^warning: \|Updated input\|^    .github:\|^  → .path:' | tail -n 40 | sed 's/^/      /'
}
step() {
    local name="$1"
    shift
    local out
    if out="$("$@" 2>&1)"; then pass "$name"; else fail "$name" "$out"; fi
}

# 2) Evaluation against the stub.
step "nix flake metadata" nix flake metadata "${stub[@]}" .
step "nix flake show" nix flake show "${stub[@]}" .
step "nix flake check --no-build" nix flake check --no-build "${stub[@]}" .
step "user-function example: nix flake check --no-build" \
    nix flake check --no-build "${example_inputs[@]}" "$example"

# A template as a user gets it: `nix flake init -t` into an empty directory, then evaluated
# with its faas-runtime input pointed at TREE and nixpkgs (which follows faas-runtime's) at the
# stub, then the attribute tests for a user's function. Both templates (`default`, a handler;
# `http`, an axum app) make the same crate and flake outputs, so the same tests hold.
# Usage: template_flake TREE_FLAKE_REF DIR [NAME]
template_flake() {
    local tree="$1" dir="$2" name="${3:-default}"
    rm -rf "$dir" && mkdir -p "$dir" || return 1
    (cd "$dir" && nix flake init -t "$tree#$name") || return 1
    for f in flake.nix Cargo.toml Cargo.lock README.md src/main.rs events/hello.json events/hello.expected.json; do
        [ -f "$dir/$f" ] || { echo "template $name: $f missing after nix flake init"; return 1; }
    done
    [ "$(wc -l <"$dir/README.md")" -eq 5 ] || { echo "template $name: README.md is not five lines"; return 1; }
    if [ "$name" = http ]; then
        # An HTTP function: faas-runtime's http feature, run_http, and a function URL event.
        python3 - "$dir" <<'PY' || return 1
import json, sys, tomllib
from pathlib import Path
d = Path(sys.argv[1])
runtime = tomllib.loads((d / "Cargo.toml").read_text())["dependencies"].get("faas-runtime", {})
event = json.loads((d / "events/hello.json").read_text())
problems = [p for p, bad in (
    ("faas-runtime without its http feature", "http" not in (runtime.get("features", []) if isinstance(runtime, dict) else [])),
    ("src/main.rs does not call run_http", "faas_runtime::run_http(" not in (d / "src/main.rs").read_text()),
    ("events/hello.json is no function URL event", ".lambda-url." not in event.get("requestContext", {}).get("domainName", "")),
) if bad]
for p in problems:
    print(f"template http: {p}")
sys.exit(1 if problems else 0)
PY
    fi
    nix flake check --no-build --no-write-lock-file --override-input faas-runtime "$tree" \
        --override-input faas-runtime/nixpkgs "path:$stub_path" "path:$dir" &&
        python3 "$root/nix/tests/attributes.py" "$(echo "$tree" | sed 's|^path:||; s|^git+file://||')" "$stub_path" --template "$dir"
}

# 3) Attribute tests over the evaluated derivations.
if out="$(python3 nix/tests/attributes.py "$root" "$stub_path" 2>&1)"; then
    pass "attribute tests ($(printf '%s\n' "$out" | tail -n 1))"
else
    fail "attribute tests" "$(printf '%s\n' "$out" | grep -v '^PASS')"
fi

template_dir="$(mktemp -d /tmp/faas-template.XXXXXX)"
for name in default http; do
    if out="$(template_flake "git+file://$root" "$template_dir/$name" "$name" 2>&1)"; then
        pass "templates.$name: nix flake init -t, flake check --no-build, attribute tests ($(printf '%s\n' "$out" | tail -n 1))"
    else
        fail "templates.$name: nix flake init -t, flake check --no-build, attribute tests" "$(printf '%s\n' "$out" | grep -v '^PASS')"
    fi
done
rm -rf "$template_dir"

# 4) Negative tests: inject one defect into a temporary copy, expect a failure naming it.
scratch="$(mktemp -d /tmp/faas-nix-eval.XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
# WHOLE=template makes inject test the template instantiated from the copy instead
# (TEMPLATE names which).
WHOLE=tree
TEMPLATE=default
copy="$scratch/tree"
mkdir -p "$copy"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && { mkdir -p "$copy/$(dirname "$f")"; cp -P "$f" "$copy/$f"; }
done

# The flake check and the attribute tests of a tree.
whole() { nix flake check --no-build "${stub[@]}" "path:$1" && python3 "$1/nix/tests/attributes.py" "$1" "$stub_path"; }

# inject NAME EXPECT FILE OLD NEW [FILE OLD NEW ...]: replace OLD by NEW (each must occur once),
# run the flake check and the attribute tests on the copy, expect a failure whose output holds
# the regular expression EXPECT, then restore the files.
inject() {
    local name="$1" expect="$2"
    shift 2
    local files=() out
    while [ $# -gt 0 ]; do
        local file="$1" old="$2" new="$3"
        shift 3
        cp "$copy/$file" "$scratch/saved.$(echo "$file" | tr / _)"
        files+=("$file")
        if ! python3 - "$copy/$file" "$old" "$new" <<'EOF'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"{path}: expected the text once, found it {text.count(old)} times: {old!r}")
open(path, "w").write(text.replace(old, new))
EOF
        then
            fail "injected: $name" "the text to replace is gone from $file: update this negative test"
            for f in "${files[@]}"; do cp "$scratch/saved.$(echo "$f" | tr / _)" "$copy/$f"; done
            return
        fi
    done
    if [ "$WHOLE" = template ]; then
        out="$(template_flake "path:$copy" "$scratch/fn" "$TEMPLATE" 2>&1)"
    else
        out="$(whole "$copy" 2>&1)"
    fi
    local status=$?
    for f in "${files[@]}"; do cp "$scratch/saved.$(echo "$f" | tr / _)" "$copy/$f"; done
    if [ "$status" -eq 0 ]; then
        fail "injected: $name" "the defect went unnoticed: evaluation and attribute tests passed"
    elif printf '%s\n' "$out" | grep -Eq "$expect"; then
        pass "injected: $name (caught: $(printf '%s\n' "$out" | grep -Eo "$expect" | head -n 1))"
    else
        fail "injected: $name" "failed, but not with /$expect/:"$'\n'"$out"
    fi
}

# The unmodified copy must pass, or every injection below proves nothing.
step "negative tests: the unmodified copy passes" whole "$copy"

inject "defect 1, a defaulted argument named like a nixpkgs package (binary)" \
    "cargo builds --package faas-runtime --bin bootstrap|getExe'?: The second argument" \
    nix/bootstrap.nix $', binary\n}' $', binary ? "bootstrap"\n}' \
    nix/packages.nix $'    binary = "bootstrap";\n' ''
inject "defect 1, a defaulted argument of ours left to callPackage (runs)" \
    'defaulted argument `runs`[^.]*startup-time.nix|startup-time.nix: the defaulted argument `runs`' \
    nix/checks/startup-time.nix '{ lib, runCommand, checksTools, bootstrap, runs }:' '{ lib, runCommand, checksTools, bootstrap, runs ? 20 }:' \
    nix/checks/default.nix ' runs = 20;' ''
inject "defect 1, a defaulted image argument left to callPackage (source)" \
    'image.nix: the defaulted argument `source`' \
    nix/image.nix $', source\n' $', source ? "https://example.org"\n' \
    nix/variants.nix $'    source = "https://github.com/faas-runtime/faas-runtime";\n' ''
inject "defect 2, jemalloc at -O0 under fortify (Cargo.toml dev profile)" \
    'jemalloc never at -O0 under fortify' \
    Cargo.toml $'[profile.dev.package.tikv-jemalloc-sys]\nopt-level = 1\n' ''
inject "defect 4, RUSTFLAGS left to .cargo/config.toml" \
    'rustflags cargo applies hold relocation-model=static' \
    nix/bootstrap.nix '  RUSTFLAGS = "-C relocation-model=static -C target-feature=+crt-static";' ''
inject "defect 5, stdenv's debug-only strip" \
    'full strip \(strip -s\)' \
    nix/bootstrap.nix '  stripAllList = [ "bin" ];' ''
inject "allowedReferences dropped" \
    'allowedReferences = \[ \]' \
    nix/bootstrap.nix '  allowedReferences = [ ];' ''
inject "image config drifts from the Dockerfile (USER)" \
    'User as in the Dockerfile' \
    nix/image.nix 'User = "65532:65532";' 'User = "0:0";'
inject "the Dockerfile drifts from the image config (EXPOSE)" \
    'ExposedPorts as in the Dockerfile' \
    images/scratch.Dockerfile $'EXPOSE 8080\n' $'EXPOSE 9090\n'
inject "created is dockerTools' default, not the Dockerfiles'" \
    "created = the Dockerfile's CREATED" \
    nix/image.nix 'created = "1970-01-01T00:00:00Z";' 'created = "1970-01-01T00:00:01Z";'
inject "the aarch64 image declares the wrong architecture" \
    'architecture arm64' \
    nix/lib/ociArchitecture.nix 'aarch64 = "arm64";' 'aarch64 = "amd64";'
inject "the cross bootstrap targets the build machine" \
    'target aarch64-unknown-linux-musl' \
    flake.nix '(pkgsFor "x86_64-linux").pkgsCross.aarch64-multiplatform-musl.pkgsStatic' '(pkgsFor "x86_64-linux").pkgsStatic'

inject "the cross bootstrap from the dynamic musl set (pkgsCross without pkgsStatic)" \
    'built by a static package set' \
    flake.nix '.pkgsCross.aarch64-multiplatform-musl.pkgsStatic;' '.pkgsCross.aarch64-multiplatform-musl;'

inject "the bootstrap's source set is the whole workspace again (check scripts rebuild it)" \
    'source holds the runtime and the members. manifests, no check sources' \
    nix/packages.nix '    src = workspace.bootstrapSrc;' '    inherit (workspace) src;'
inject "the arm64 zip packs the x86_64 bootstrap" \
    'zip-aarch64: holds the aarch64-unknown-linux-musl bootstrap' \
    flake.nix 'zip-aarch64 = crossAarch64.zip;' 'zip-aarch64 = ours.x86_64-linux.zip;'
inject "the zip is written by another program than build-zip.sh's" \
    'zip: written by .faas-check zip --out.' \
    nix/zip.nix '  faas-check zip --out bootstrap.zip "$binary"' '  zip -X bootstrap.zip "$binary"'

WHOLE=template
inject "template: the kit's invocation check is dropped" \
    "checks.x86_64-linux: .*missing \\['invocation'\\]" \
    nix/lib/mkFunction.nix '} // pkgs.lib.optionalAttrs (event != null) {' '} // pkgs.lib.optionalAttrs false {'
inject "template: the user's image budget is ignored" \
    'image-size: budget 1048576' \
    nix/lib/mkFunction.nix '      budget = imageBudget;' '      budget = 2 * imageBudget;'
inject "template: aarch64 = true builds for the build machine" \
    'zip-aarch64: holds the aarch64-unknown-linux-musl bootstrap' \
    nix/lib/mkFunction.nix 'if aarch64 then pkgs.pkgsCross.aarch64-multiplatform-musl.pkgsStatic else' 'if aarch64 then pkgs.pkgsStatic else'
inject "template: the invocation check without expected answer or judge" \
    'needs .expected. \(a file\) or .judge.' \
    templates/default/flake.nix '        expected = ./events/hello.expected.json;' ''
TEMPLATE=http
inject "template http: its invocation check without expected answer or judge" \
    'needs .expected. \(a file\) or .judge.' \
    templates/http/flake.nix '        expected = ./events/hello.expected.json;' ''
inject "template http: templates.http points at the default template" \
    'template http: faas-runtime without its http feature' \
    flake.nix 'path = ./templates/http;' 'path = ./templates/default;'
TEMPLATE=default
WHOLE=tree

# 5) Format and workflow audit.
mapfile -t nix_files < <(git ls-files --cached --others --exclude-standard -- '*.nix')
step "nixpkgs-fmt --check (${#nix_files[@]} files)" nixpkgs-fmt --check "${nix_files[@]}"
step "zizmor --offline .github/workflows/" zizmor --offline .github/workflows/

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
