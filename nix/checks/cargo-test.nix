# `cargo test`, native, offline against the vendored Cargo.lock: unit tests, doctests and the
# end-to-end suites that need nothing outside the sandbox (runtime, emulator). The static-binary
# and awslambdaric conformance suites need the musl build and Python packages: `make test` runs them.
# Debug profile: jemalloc's C code gets opt-level 1 from Cargo.toml, so nixpkgs' fortify hardening
# stays on (at -O0 glibc warns and jemalloc's configure, run with -Werror, fails).
{ stdenv, rustPlatform, cargo, rustc, src, cargoLock }:
stdenv.mkDerivation {
  name = "faas-cargo-test";
  inherit src;
  cargoDeps = rustPlatform.importCargoLock cargoLock;
  nativeBuildInputs = [ rustPlatform.cargoSetupHook cargo rustc ];

  buildPhase = ''
    # The end-to-end suites run the binaries and examples as processes: build them first.
    cargo build --workspace --offline --locked --bins --examples
    cargo test --workspace --offline --locked --lib --bins --test runtime --test emulator
    cargo test --workspace --offline --locked --doc
  '';
  installPhase = ''
    touch $out
  '';
}
