# syntax=docker/dockerfile:1
# faas-runtime on `scratch`: the static musl `bootstrap` and nothing else.
#
# With a registry:
#   buildah build --timestamp 0 --layers=false -f images/scratch.Dockerfile \
#     --build-arg REVISION="$(git rev-parse HEAD)" -t faas-runtime:scratch .
# Without one (only FROM scratch works): build the binary on the host and let
# `--build-context` replace the `bootstrap` stage below (no base image is pulled):
#   images/build-bootstrap.sh --out out/bootstrap
#   buildah build --timestamp 0 --layers=false -f images/scratch.Dockerfile \
#     --build-context bootstrap=out/bootstrap -t faas-runtime:scratch .
# EXAMPLE=panic builds an example (runtime/examples/panic.rs) instead of the default binary.
# arm64: the same with `--platform linux/arm64` and a context holding the host-built
# `images/build-bootstrap.sh --target aarch64-unknown-linux-musl` (images/README.md).

ARG RUST_VERSION=1.95.0

FROM docker.io/library/rust:${RUST_VERSION}-slim-bookworm AS builder
ARG TARGET=x86_64-unknown-linux-musl
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends make musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add "${TARGET}"
WORKDIR /build
# Same path maps as images/build-bootstrap.sh, so no builder path stays in the binary.
# In the cargo home's config, not RUSTFLAGS: cargo merges it with the workspace's
# .cargo/config.toml (which sets relocation-model=static for musl) where RUSTFLAGS would
# replace it. Set before the dependency build: changed flags rebuild everything.
RUN printf '[target.%s]\nrustflags = ["--remap-path-prefix=/usr/local/cargo=/cargo"]\n' "${TARGET}" \
    >> "${CARGO_HOME:-/usr/local/cargo}/config.toml"
ENV CFLAGS="-ffile-prefix-map=/usr/local/cargo=/cargo"
# 1) Dependencies only, in their own layer: the manifests plus empty stub targets.
#    Editing runtime/src or checks/src does not invalidate this layer.
COPY Cargo.toml Cargo.lock ./
COPY .cargo/config.toml .cargo/musl-ld .cargo/no-unwind-tables.ld .cargo/
COPY runtime/Cargo.toml runtime/
COPY checks/Cargo.toml checks/
RUN mkdir -p runtime/src checks/src/bin/faas-check \
 && for f in runtime/src/main.rs checks/src/bin/faas-emulator.rs checks/src/bin/faas-check/main.rs; do \
      echo 'fn main() {}' > "$f"; done \
 && touch runtime/src/lib.rs checks/src/lib.rs \
 && cargo build --release --locked --target "${TARGET}" -p faas-runtime --bin bootstrap \
 && rm -rf runtime/src checks/src
# 2) The sources; touch them so cargo does not take the stubs' build for fresh.
COPY runtime/ runtime/
COPY checks/ checks/
ARG EXAMPLE=""
RUN find runtime checks -name '*.rs' -exec touch {} + \
 && if [ -n "${EXAMPLE}" ]; then \
      cargo build --release --locked --target "${TARGET}" -p faas-runtime --example "${EXAMPLE}" \
      && cp "target/${TARGET}/release/examples/${EXAMPLE}" /bootstrap; \
    else \
      cargo build --release --locked --target "${TARGET}" -p faas-runtime --bin bootstrap \
      && cp "target/${TARGET}/release/bootstrap" /bootstrap; \
    fi

# The binary alone. `--build-context bootstrap=DIR` (DIR holding `bootstrap`) replaces this stage.
FROM scratch AS bootstrap
COPY --from=builder /bootstrap /bootstrap

FROM scratch
ARG SOURCE=https://github.com/faas-runtime/faas-runtime
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.title="faas-runtime (scratch)" \
      org.opencontainers.image.description="AWS Lambda Runtime API client: a static musl bootstrap on an empty base"
# Only the binary: no passwd/group entries (the numeric USER needs none), no CA bundle,
# no shell. 0555: readable and executable by the non-root user, writable by nobody.
COPY --from=bootstrap --chmod=0555 /bootstrap /bootstrap
ENV FAAS_LISTEN=0.0.0.0:8080
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/bootstrap"]
