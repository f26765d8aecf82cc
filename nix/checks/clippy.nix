# `cargo clippy --all-targets -- -D warnings`, native, offline against the vendored Cargo.lock.
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
