# The README's two Quick start commands (`make demo`, `make test`) and the steps they run.
# Every target installs what it lacks, so both work on a fresh Debian 12 machine (as root).

STATIC := target/x86_64-unknown-linux-musl/release/bootstrap
LISTEN ?= 127.0.0.1:8080
EVENT ?= {"name":"world"}
export EVENT

.PHONY: demo test setup static lint rust-tests container-tests nix-checks bench report

## demo: build the static bootstrap, start it in local mode, invoke it once, print the answer.
demo: setup static
	@echo "--- starting $(STATIC) in local mode on $(LISTEN)"
	@$(STATIC) --listen $(LISTEN) & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null' EXIT; \
	for _ in $$(seq 100); do curl -s -o /dev/null http://$(LISTEN)/ && break; sleep 0.05; done; \
	echo "--- curl -d '$$EVENT' http://$(LISTEN)/2015-03-31/functions/function/invocations"; \
	curl -sS -d "$$EVENT" http://$(LISTEN)/2015-03-31/functions/function/invocations; echo

## test: everything CI runs: lint, unit + end-to-end + conformance tests, containers, Nix evaluation.
test: setup static lint rust-tests container-tests nix-checks

## setup: the apt packages, rustup target and Python packages the build and tests need.
setup:
	@command -v musl-gcc >/dev/null && command -v curl >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools curl; }
	@rustup target list --installed | grep -qx x86_64-unknown-linux-musl || rustup target add x86_64-unknown-linux-musl
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt
	@python3 -c 'import awslambdaric' 2>/dev/null || python3 -m pip install -q awslambdaric==4.2.2 || \
		python3 -m pip install -q --break-system-packages awslambdaric==4.2.2

## static: the reproducible static musl bootstrap (prints its path, sha256 and size).
static:
	@images/build-bootstrap.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

# The end-to-end tests run the workspace's binaries and the runtime's examples as processes:
# `cargo test` alone builds examples but not another package's binaries.
rust-tests:
	cargo build --workspace --bins --examples --locked
	cargo test --workspace --locked

container-tests:
	checks/container-tests.sh

nix-checks:
	nix/tests/eval.sh

## bench: ours (jemalloc on/off) vs AWS's lambda_runtime (musl, glibc) and awslambdaric, and a C floor:
## echo functions and a 512 KB JSON workload under faas-emulator (checks/bench.sh; a few minutes).
bench: setup
	checks/bench.sh

## report: rerun the measuring programs and paste their figures into README.md's "Measured here".
report: setup
	checks/report.sh
