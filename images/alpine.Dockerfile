# syntax=docker/dockerfile:1
# faas-runtime on Alpine: the same static musl `bootstrap`, plus a shell and apk for debugging.
#
# With a registry:
#   buildah build --timestamp 0 --layers=false -f images/alpine.Dockerfile \
#     --build-arg REVISION="$(git rev-parse HEAD)" -t faas-runtime:alpine .
# With a host-built binary (the alpine base image itself still needs a registry):
#   images/build-bootstrap.sh --out out/bootstrap
#   buildah build --timestamp 0 --layers=false -f images/alpine.Dockerfile \
#     --build-context bootstrap=out/bootstrap -t faas-runtime:alpine .

ARG RUST_VERSION=1.95.0
ARG ALPINE_VERSION=3.22

FROM docker.io/library/rust:${RUST_VERSION}-alpine${ALPINE_VERSION} AS builder
ARG TARGET=x86_64-unknown-linux-musl
# musl is the native libc here: plain gcc builds jemalloc (the workspace's
# .cargo/config.toml names Debian's musl-gcc, which an environment variable overrides).
# hadolint ignore=DL3018
RUN apk add --no-cache make musl-dev gcc
WORKDIR /build
ENV CC_x86_64_unknown_linux_musl=gcc
# Same path maps as images/build-bootstrap.sh, so no builder path stays in the binary.
# In the cargo home's config, not RUSTFLAGS: cargo merges it with the workspace's
# .cargo/config.toml (which sets relocation-model=static for musl) where RUSTFLAGS would
# replace it. Set before the dependency build: changed flags rebuild everything.
RUN printf '[target.%s]\nrustflags = ["--remap-path-prefix=/usr/local/cargo=/cargo"]\n' "${TARGET}" \
    >> "${CARGO_HOME:-/usr/local/cargo}/config.toml"
ENV CFLAGS="-ffile-prefix-map=/usr/local/cargo=/cargo"
# 1) Dependencies only, in their own layer: the manifests plus empty stub targets.
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
RUN find runtime checks -name '*.rs' -exec touch {} + \
 && cargo build --release --locked --target "${TARGET}" -p faas-runtime --bin bootstrap \
 && cp "target/${TARGET}/release/bootstrap" /bootstrap

# `--build-context bootstrap=DIR` (DIR holding `bootstrap`) replaces this stage.
FROM scratch AS bootstrap
COPY --from=builder /bootstrap /bootstrap

FROM docker.io/library/alpine:${ALPINE_VERSION}
ARG SOURCE=https://github.com/faas-runtime/faas-runtime
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.title="faas-runtime (alpine)" \
      org.opencontainers.image.description="AWS Lambda Runtime API client: a static musl bootstrap on Alpine"
COPY --from=bootstrap --chmod=0555 /bootstrap /bootstrap
ENV FAAS_LISTEN=0.0.0.0:8080
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/bootstrap"]
