# `nix develop`: cargo and rustc with the host and the static musl target, the musl C
# compiler (for jemalloc), clippy, rustfmt, podman/buildah/skopeo, nixpkgs-fmt, and the
# emulator and check programs on PATH.
{ lib, mkShell, pkgsStatic, clippy, rustfmt, podman, buildah, skopeo, nixpkgs-fmt, checksTools }:
let
  musl = pkgsStatic.stdenv;
  target = musl.hostPlatform.rust.rustcTarget;
  targetVar = lib.replaceStrings [ "-" ] [ "_" ] target;
  muslCc = "${musl.cc.targetPrefix}cc";
in
mkShell {
  packages = [
    # pkgsStatic's build-machine rustc carries the standard library of both targets.
    pkgsStatic.buildPackages.rustc
    pkgsStatic.buildPackages.cargo
    musl.cc
    clippy
    rustfmt
    podman
    buildah
    skopeo
    nixpkgs-fmt
    checksTools
  ];

  # What .cargo/config.toml asks of Debian's musl-gcc, pointed at nixpkgs' musl compiler.
  env = {
    "CC_${targetVar}" = muslCc;
    "CARGO_TARGET_${lib.toUpper targetVar}_LINKER" = muslCc;
  };

  shellHook = ''
    echo "faas-runtime: cargo build --release --target ${target} -p faas-runtime --bin bootstrap"
  '';
}
