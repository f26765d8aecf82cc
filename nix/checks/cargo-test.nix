# `cargo test --workspace`, native, offline against the vendored Cargo.lock.
{ stdenv, rustPlatform, cargo, rustc, src, cargoLock }:
stdenv.mkDerivation {
  name = "faas-cargo-test";
  inherit src;
  cargoDeps = rustPlatform.importCargoLock cargoLock;
  nativeBuildInputs = [ rustPlatform.cargoSetupHook cargo rustc ];

  buildPhase = ''
    cargo test --workspace --offline --locked
  '';
  installPhase = ''
    touch $out
  '';
}
