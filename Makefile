# The README's two Quick start commands (`make demo`, `make test`) and the steps they run.
# Every target installs what it lacks, so both work on a fresh Debian 12 machine (as root).

STATIC := target/x86_64-unknown-linux-musl/release/bootstrap
AARCH64 := aarch64-unknown-linux-musl
LISTEN ?= 127.0.0.1:8080
EVENT ?= {"name":"world"}
export EVENT

.PHONY: demo test setup static aarch64 aarch64-tests lint rust-tests toolchains container-tests nix-checks deploy-tests zip bench report soak fuzz

## demo: build the static bootstrap, start it in local mode, invoke it once, print the answer.
demo: setup static
	@echo "--- starting $(STATIC) in local mode on $(LISTEN)"
	@$(STATIC) --listen $(LISTEN) & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null' EXIT; \
	for _ in $$(seq 100); do curl -s -o /dev/null http://$(LISTEN)/ && break; sleep 0.05; done; \
	echo "--- curl -d '$$EVENT' http://$(LISTEN)/2015-03-31/functions/function/invocations"; \
	curl -sS -d "$$EVENT" http://$(LISTEN)/2015-03-31/functions/function/invocations; echo

## test: everything CI runs: lint, unit + end-to-end + conformance tests, the Rust of nixpkgs and the MSRV, containers, Nix evaluation, fuzzing.
test: setup static aarch64 lint rust-tests aarch64-tests toolchains container-tests nix-checks deploy-tests
	$(MAKE) fuzz FUZZ_SECONDS=20

## setup: the apt packages, rustup target and Python packages (awslambdaric, botocore) the build and tests need.
setup:
	@command -v musl-gcc >/dev/null && command -v curl >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools curl; }
	@rustup target list --installed | grep -qx x86_64-unknown-linux-musl || rustup target add x86_64-unknown-linux-musl
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt
	@python3 -c 'import awslambdaric' 2>/dev/null || python3 -m pip install -q awslambdaric==4.2.2 || \
		python3 -m pip install -q --break-system-packages awslambdaric==4.2.2
	@# botocore: the AWS SDK's own event-stream parser reads the streams of checks/tests/streaming.rs.
	@python3 -c 'import botocore' 2>/dev/null || python3 -m pip install -q botocore==1.43.11 || \
		python3 -m pip install -q --break-system-packages botocore==1.43.11

## static: the reproducible static musl bootstrap (prints its path, sha256 and size).
static:
	@images/build-bootstrap.sh

## aarch64: the static aarch64 (Graviton) bootstrap and the examples its tests run, plus qemu
## to run them (build-bootstrap.sh installs the cross compiler; prints the bootstrap's size).
aarch64:
	@images/build-bootstrap.sh --target $(AARCH64)
	@for e in error panic sleep; do images/build-bootstrap.sh --target $(AARCH64) --example $$e >/dev/null; done
	@command -v qemu-aarch64-static >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static; }

## aarch64-tests: the aarch64 binaries' static checks, and end to end under qemu-aarch64-static
## behind faas-emulator (these tests are #[ignore]d in a plain `cargo test`).
aarch64-tests: aarch64
	cargo build --locked -p faas-checks --bin faas-emulator
	cargo test --locked -p faas-checks --test static_binary --test aarch64 -- --ignored --nocapture

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
	# The crate with every feature off (no local mode, no jemalloc), as a Lambda-only function uses it.
	cargo clippy -p faas-runtime --lib --no-default-features --locked -- -D warnings
	# HTTP functions on a Lambda-only build (the http feature without local mode).
	cargo clippy -p faas-runtime --lib --no-default-features --features http --locked -- -D warnings
	# The crate as crates.io would take it (metadata, readme, every file it needs).
	cargo publish --dry-run -p faas-runtime --allow-dirty

# The end-to-end tests run the workspace's binaries and the runtime's examples as processes:
# `cargo test` alone builds examples but not another package's binaries.
rust-tests:
	cargo build --workspace --bins --examples --locked
	cargo test --workspace --all-features --locked
	# A function built as a Lambda-only deployment builds it (no `local` feature): its own
	# target dir, since inside the workspace build the checks crate turns the feature on.
	cargo build --locked -p faas-bench-ours --bin echo --target-dir target/lambda-only
	cargo test --locked -p faas-checks --test cli -- --ignored
	# AWS's lambda_runtime run_concurrent (its own cargo project, checks/peers/lambda-runtime)
	# under faas-emulator --max-concurrency 8: #[ignore]d in a plain `cargo test`.
	cargo build --locked --manifest-path checks/peers/lambda-runtime/Cargo.toml --bin concurrent --target-dir target/peers
	cargo test --locked -p faas-checks --test conformance -- --ignored

## toolchains: clippy + the suites on the Rust of flake.lock's nixpkgs, and the MSRV build.
toolchains:
	checks/toolchains.sh

## soak: 100,000 invocations of local mode (keep-alive and new connections); prints the RSS and
## fd counts of both processes at the 10% mark and the end. `make test` runs a 5,000 one.
SOAK_INVOCATIONS ?= 100000
soak:
	cargo build --workspace --bins --examples --locked
	SOAK_INVOCATIONS=$(SOAK_INVOCATIONS) cargo test -p faas-checks --test soak --locked -- --nocapture

## fuzz: each target in fuzz/ for FUZZ_SECONDS (nightly and cargo-fuzz installed if missing).
## The emulator's START/REPORT lines of every run go to /dev/null; libFuzzer reports on stderr.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS = invoke_request runtime_api_request client_context context_headers runtime_api_address runtime_api_response http_event telemetry_subscription
fuzz:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v g++ >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++; }
	@cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
	for t in $(FUZZ_TARGETS); do \
		cargo +nightly fuzz run $$t fuzz/corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) >/dev/null || exit 1; \
	done

container-tests:
	checks/container-tests.sh

nix-checks:
	nix/tests/eval.sh

## zip: the Lambda deployment packages (bootstrap at the root) for x86_64 and arm64 in target/lambda.
zip:
	images/build-zip.sh
	images/build-zip.sh --target $(AARCH64)

## deploy-tests: the zips (reproducible, contents, answering under faas-emulator, arm64 through
## qemu), the function template built and invoked, the SAM templates through cfn-lint.
deploy-tests: static aarch64
	checks/deploy-tests.sh

## bench: ours and AWS's lambda_runtime, each with jemalloc and musl's malloc (ours also without local mode), awslambdaric, a C floor:
## echo functions and a 512 KB JSON workload under faas-emulator (checks/bench.sh; a few minutes).
bench: setup
	checks/bench.sh

## report: rerun the measuring programs and paste their figures into README.md's "Measured here".
report: setup
	checks/report.sh
