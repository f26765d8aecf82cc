# `cargo fmt --check`, with the same vendored dependencies as the other cargo checks, so that
# cargo never reaches for the network.
{ stdenv, rustPlatform, cargo, rustfmt, src, cargoLock }:
stdenv.mkDerivation {
  name = "faas-rustfmt";
  inherit src;
  cargoDeps = rustPlatform.importCargoLock cargoLock;
  nativeBuildInputs = [ rustPlatform.cargoSetupHook cargo rustfmt ];

  buildPhase = ''
    cargo fmt --all --check
  '';
  installPhase = ''
    touch $out
  '';
}
