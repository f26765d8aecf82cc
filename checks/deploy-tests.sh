#!/usr/bin/env bash
# What a user deploys, tested offline: the Lambda zips, the function template, the SAM templates.
#
#   checks/deploy-tests.sh            # from anywhere; KEEP=1 keeps the work dir
#
# - zips (x86_64 and arm64, images/build-zip.sh): a second build gives the same sha256; the
#   binary copied elsewhere (other name, mode and time) and zipped again gives the same bytes;
#   Info-ZIP's unzip and Python's zipfile (readers other than ours) see exactly `bootstrap`,
#   -rwxr-xr-x, 1980-01-01, made on Unix, no extra fields; the unzipped binary answers an
#   invocation under faas-emulator (arm64 through qemu-aarch64-static); `faas-check size`
#   sets both zips side by side;
# - templates/default and templates/http: copied as `nix flake init -t` would, each crate built by cargo against
#   this tree's runtime (a [patch] on the copy), its Cargo.lock current for every other crate,
#   and the function answering events/hello.json with events/hello.expected.json under
#   faas-emulator, and an empty name with a function error;
# - deploy/zip.yaml and deploy/image.yaml pass cfn-lint (and a template with a bad runtime fails it).
#
# Installs what it lacks: unzip, qemu-user-static (apt), cfn-lint (PyPI). Reuses the
# workspace's target dir (the bootstraps `make static`/`make aarch64` built are not rebuilt).
# Prints one PASS/FAIL line per test and `N passed, N failed`; exits 1 if any failed.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$repo" || exit 2
work="$(mktemp -d "${TMPDIR:-/tmp}/faas-deploy-tests.XXXXXX")"
mkdir -p "$work/logs"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
aarch64="aarch64-unknown-linux-musl"
passed=0
failed=0
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
# shellcheck source=checks/lib.sh
. "$repo/checks/lib.sh"

# --- Tools -------------------------------------------------------------------------------------
need=()
command -v unzip >/dev/null || need+=(unzip)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } >&2
fi
cfn_lint_version=1.51.0
export PATH="$PATH:$HOME/.local/bin"
if [ "$(cfn-lint --version 2>/dev/null)" != "cfn-lint $cfn_lint_version" ]; then
    log "installing cfn-lint $cfn_lint_version (PyPI)"
    { python3 -m pip install -q "cfn-lint==$cfn_lint_version" ||
        python3 -m pip install -q --break-system-packages "cfn-lint==$cfn_lint_version"; } >&2
    hash -r
fi
log "building faas-emulator"
cargo build --locked -p faas-checks --bin faas-emulator >&2 || exit 2
emulator="$target_dir/debug/faas-emulator"

# invoke_under_emulator PORT_BASE EVENT COMMAND...: the function behind faas-emulator; prints
# the response headers and body of one invocation.
invoke_under_emulator() {
    local base="$1" event="$2"
    shift 2
    "$emulator" --api "127.0.0.1:$base" --listen "127.0.0.1:$((base + 1))" -- "$@" &
    local pid=$! status=0
    pids+=("$pid")
    for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$((base + 1))/" && break; sleep 0.05; done
    curl -sS -D - --max-time 30 --data-binary "$event" \
        "http://127.0.0.1:$((base + 1))/2015-03-31/functions/function/invocations" || status=1
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return $status
}

# --- Zips ----------------------------------------------------------------------------------------
log "building the zips (x86_64, arm64)"
zip_builds() { # TARGET OUTDIR
    images/build-zip.sh --target "$1" --out "$2" | tee "$2-$1.out"
}
run_test zip_x86_64_builds zip_builds x86_64-unknown-linux-musl "$work/a"
run_test zip_arm64_builds zip_builds "$aarch64" "$work/a"
cat "$work/a-x86_64-unknown-linux-musl.out" "$work/a-$aarch64.out" | sed -n 's/^/    /p' | grep 'path\|sha256\|size'

zip_is_reproducible() { # TARGET ARCH
    local target="$1" arch="$2"
    sleep 1.1 # another second on the clock: a stamped time would show
    images/build-zip.sh --target "$target" --out "$work/b" >/dev/null || return 1
    # The same binary under another name, mode and time, zipped by the program directly.
    mkdir -p "$work/c" && (cd "$work/c" && unzip -q -o "$work/a/bootstrap-$arch.zip") || return 1
    mv "$work/c/bootstrap" "$work/c/renamed" && chmod 0600 "$work/c/renamed" && touch -d '2001-02-03 04:05:06' "$work/c/renamed"
    "$target_dir/release/faas-check" zip --out "$work/c/again.zip" "$work/c/renamed" || return 1
    sha256sum "$work/a/bootstrap-$arch.zip" "$work/b/bootstrap-$arch.zip" "$work/c/again.zip"
    cmp "$work/a/bootstrap-$arch.zip" "$work/b/bootstrap-$arch.zip" && cmp "$work/a/bootstrap-$arch.zip" "$work/c/again.zip"
}
run_test zip_x86_64_is_reproducible zip_is_reproducible x86_64-unknown-linux-musl x86_64
run_test zip_arm64_is_reproducible zip_is_reproducible "$aarch64" arm64

zip_holds_bootstrap_alone() { # ARCH BINARY
    local zip="$work/a/bootstrap-$1.zip"
    unzip -Z "$zip"
    [ "$(unzip -Z1 "$zip")" = bootstrap ] || { echo "entries: $(unzip -Z1 "$zip" | tr '\n' ' ')"; return 1; }
    unzip -Z "$zip" | grep -Eq '^-rwxr-xr-x .* unx .* 80-Jan-01 00:00 bootstrap$' || return 1
    python3 - "$zip" <<'PY' || return 1
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
(i,) = z.infolist()
facts = (i.filename, oct(i.external_attr >> 16), i.date_time, i.create_system, i.extra, i.comment, z.comment)
print(facts)
assert facts == ("bootstrap", "0o100755", (1980, 1, 1, 0, 0, 0), 3, b"", b"", b""), facts
assert z.testzip() is None
PY
    unzip -p "$zip" bootstrap | cmp - "$2"
}
run_test zip_x86_64_holds_bootstrap_alone zip_holds_bootstrap_alone x86_64 \
    "$target_dir/x86_64-unknown-linux-musl/release/bootstrap"
run_test zip_arm64_holds_bootstrap_alone zip_holds_bootstrap_alone arm64 "$target_dir/$aarch64/release/bootstrap"

unzipped_bootstrap_answers() { # ARCH PORT_BASE [RUNNER]
    local dir="$work/run-$1" out
    mkdir -p "$dir" && (cd "$dir" && unzip -q -o "$work/a/bootstrap-$1.zip") || return 1
    out="$(invoke_under_emulator "$2" '{"name":"Ada"}' ${3:+"$3"} "$dir/bootstrap")" || return 1
    echo "$out"
    [ "$(printf '%s\n' "$out" | tail -n 1)" = '{"message":"Hello, Ada!"}' ]
}
run_test unzipped_x86_64_bootstrap_answers unzipped_bootstrap_answers x86_64 19310
run_test unzipped_arm64_bootstrap_answers unzipped_bootstrap_answers arm64 19320 qemu-aarch64-static

run_test size_reports_both_zips "$target_dir/release/faas-check" size "$work/a/bootstrap-x86_64.zip" \
    "$work/a/bootstrap-arm64.zip" --budget 1048576
sed -n '/side by side/,$s/^/    /p' "$work/logs/size_reports_both_zips.log"

# --- The function templates (`nix flake init -t .#default`, `.#http`) -------------------------------
# Each is copied as `nix flake init` would, built against this tree's runtime, its lock checked,
# and its example event answered. Both crates are called my-function and share the target dir,
# so each binary is copied out after its build.
template_dir() { echo "$work/template-$1"; }
for name in default http; do
    cp -r "templates/$name" "$(template_dir "$name")"
    printf '\n[patch.crates-io]\nfaas-runtime = { path = "%s/runtime" }\n' "$repo" >>"$(template_dir "$name")/Cargo.toml"
done
template_builds() { # NAME
    (cd "$(template_dir "$1")" && CARGO_TARGET_DIR="$target_dir" cargo build --offline --bin my-function) &&
        cp "$target_dir/debug/my-function" "$work/my-function-$1"
}
# The patch drops faas-runtime's source and checksum from the lock, and nothing else changes:
# every other crate is locked at what the template ships.
template_lock_is_current() { # NAME
    python3 - "templates/$1/Cargo.lock" "$(template_dir "$1")/Cargo.lock" "$1" <<'PY'
import sys
shipped, built = (open(p).read() for p in sys.argv[1:3])
block = 'name = "faas-runtime"\nversion = "'
at = shipped.index(block)
end = shipped.index("\n[[package]]", at)
entry = shipped[at:end]
lines = [l for l in entry.splitlines() if not l.startswith(("source = ", "checksum = "))]
expected = shipped[:at] + "\n".join(lines) + "\n" + shipped[end:]
if expected != built:
    import difflib
    sys.stdout.writelines(difflib.unified_diff(expected.splitlines(True), built.splitlines(True), "shipped", "built"))
    sys.exit(f"templates/{sys.argv[3]}/Cargo.lock is stale: run templates/update-lock.sh {sys.argv[3]}")
print("Cargo.lock current; faas-runtime", " ".join(l for l in entry.splitlines() if l.startswith("checksum")))
PY
}
template_answers_its_event() { # NAME PORT_BASE
    local dir out
    dir="$(template_dir "$1")"
    out="$(invoke_under_emulator "$2" "$(cat "$dir/events/hello.json")" "$work/my-function-$1")" || return 1
    echo "$out"
    [ "$(printf '%s\n' "$out" | tail -n 1)" = "$(cat "$dir/events/hello.expected.json")" ]
}
for t in "default 19330" "http 19350"; do
    set -- $t
    log "building the $1 template's crate against this tree's runtime"
    run_test "template_${1}_builds" template_builds "$1"
    run_test "template_${1}_lock_is_current" template_lock_is_current "$1"
    run_test "template_${1}_answers_its_event" template_answers_its_event "$1" "$2"
done
template_reports_a_handler_error() {
    local out
    out="$(invoke_under_emulator 19340 '{"name":""}' "$work/my-function-default")" || return 1
    echo "$out"
    printf '%s\n' "$out" | grep -qi '^x-amz-function-error: Unhandled' && printf '%s\n' "$out" | grep -q '"errorType":"EmptyName"'
}
run_test template_default_reports_a_handler_error template_reports_a_handler_error

# --- SAM templates -------------------------------------------------------------------------------
run_test sam_templates_pass_cfn_lint cfn-lint deploy/zip.yaml deploy/image.yaml
cfn_lint_catches_a_bad_runtime() {
    sed 's/Runtime: provided.al2023/Runtime: provided.al2099/' deploy/zip.yaml >"$work/bad.yaml"
    cfn-lint "$work/bad.yaml"
    [ $? -ne 0 ]
}
run_test cfn_lint_catches_a_bad_runtime cfn_lint_catches_a_bad_runtime

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
