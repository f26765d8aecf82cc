# `cargo clippy --all-targets -- -D warnings`, native, offline against the vendored Cargo.lock.
# Debug profile: jemalloc's C code gets opt-level 1 from Cargo.toml, so nixpkgs' fortify hardening
# stays on (at -O0 glibc warns and jemalloc's configure, run with -Werror, fails).
{ stdenv, rustPlatform, cargo, rustc, clippy, src, cargoLock }:
stdenv.mkDerivation {
  name = "faas-clippy";
  inherit src;
  cargoDeps = rustPlatform.importCargoLock cargoLock;
  nativeBuildInputs = [ rustPlatform.cargoSetupHook cargo rustc clippy ];

  buildPhase = ''
    cargo clippy --workspace --all-targets --offline --locked -- -D warnings
  '';
  installPhase = ''
    touch $out
  '';
}
