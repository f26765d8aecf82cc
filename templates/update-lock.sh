#!/usr/bin/env bash
# Writes templates/NAME/Cargo.lock (or OUT) for the template NAME (default: `default`; `http`
# is the axum one): the template crate's dependencies at the
# versions of the workspace's own Cargo.lock (the versions CI tests), with faas-runtime as a
# crates.io package whose checksum is that of `cargo package -p faas-runtime` from this tree.
#
#   templates/update-lock.sh [NAME [OUT]]
#
# faas-runtime is not on crates.io yet: the checksum is what crates.io would hold if this
# tree's faas-runtime were published as it is. Rerun after publishing, or after a change to
# the runtime that is published. Offline: every crate is in the workspace's lock already.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
name="${1:-default}"
[ -f "$repo/templates/$name/Cargo.toml" ] || { echo "update-lock.sh: no template templates/$name" >&2; exit 2; }
out="${2:-$repo/templates/$name/Cargo.lock}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$repo/templates/$name/." "$work/"
cp "$repo/Cargo.lock" "$work/Cargo.lock"
printf '\n[patch.crates-io]\nfaas-runtime = { path = "%s/runtime" }\n' "$repo" >>"$work/Cargo.toml"
# Any cargo command that resolves trims the lock to the template's graph, keeping versions.
(cd "$work" && CARGO_TARGET_DIR="$work/target" cargo tree --offline --quiet >/dev/null)
(cd "$repo" && cargo package -p faas-runtime --no-verify --allow-dirty --offline --quiet)
crate="${CARGO_TARGET_DIR:-$repo/target}/package/faas-runtime-$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/runtime/Cargo.toml" | head -n1).crate"
sum="$(sha256sum "$crate" | cut -d' ' -f1)"
python3 - "$work/Cargo.lock" "$sum" >"$out" <<'PY'
import sys
text, sum_ = open(sys.argv[1]).read(), sys.argv[2]
head = 'name = "faas-runtime"\nversion = "'
at = text.index(head)
line_end = text.index("\n", at + len(head)) + 1
entry = 'source = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "' + sum_ + '"\n'
sys.stdout.write(text[:line_end] + entry + text[line_end:])
PY
echo "wrote $out (faas-runtime checksum $sum)" >&2
