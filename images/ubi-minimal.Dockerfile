# syntax=docker/dockerfile:1
# faas-runtime on Red Hat UBI 9 minimal: a glibc (x86_64-unknown-linux-gnu) build,
# linked in a UBI 9 builder so it needs no newer glibc than the runtime image has.
#
# With a registry:
#   buildah build --timestamp 0 --layers=false -f images/ubi-minimal.Dockerfile \
#     --build-arg REVISION="$(git rev-parse HEAD)" -t faas-runtime:ubi-minimal .
# With a host-built binary (the UBI base image itself still needs a registry); a static
# musl bootstrap works on any base, a glibc one must be linked against glibc <= 2.34:
#   images/build-bootstrap.sh --out out/bootstrap
#   buildah build --timestamp 0 --layers=false -f images/ubi-minimal.Dockerfile \
#     --build-context bootstrap=out/bootstrap -t faas-runtime:ubi-minimal .

ARG UBI_VERSION=9.6

FROM registry.access.redhat.com/ubi9/ubi:${UBI_VERSION} AS builder
ARG RUST_VERSION=1.95.0
ARG TARGET=x86_64-unknown-linux-gnu
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3041
RUN dnf install -y --setopt=install_weak_deps=False gcc make \
 && dnf clean all \
 && curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
    | sh -s -- -y --profile minimal --default-toolchain "${RUST_VERSION}"
ENV PATH=/root/.cargo/bin:${PATH}
# Same path maps as images/build-bootstrap.sh, so no builder path stays in the binary.
# In the cargo home's config, not RUSTFLAGS: cargo merges it with the workspace's
# .cargo/config.toml (which sets relocation-model=static for musl) where RUSTFLAGS would
# replace it. Set before the dependency build: changed flags rebuild everything.
RUN printf '[target.%s]\nrustflags = ["--remap-path-prefix=/root/.cargo=/cargo"]\n' "${TARGET}" \
    >> "${CARGO_HOME:-/root/.cargo}/config.toml"
ENV CFLAGS="-ffile-prefix-map=/root/.cargo=/cargo"
WORKDIR /build
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

FROM registry.access.redhat.com/ubi9/ubi-minimal:${UBI_VERSION}
ARG SOURCE=https://github.com/faas-runtime/faas-runtime
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.title="faas-runtime (ubi-minimal)" \
      org.opencontainers.image.description="AWS Lambda Runtime API client: a glibc bootstrap on UBI 9 minimal"
COPY --from=bootstrap --chmod=0555 /bootstrap /bootstrap
ENV FAAS_LISTEN=0.0.0.0:8080
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/bootstrap"]
