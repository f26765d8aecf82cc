# The project's derivations for one system: the static bootstrap built with `muslPkgs` (the
# host's pkgsStatic, or a cross set such as pkgsCross.aarch64-multiplatform-musl.pkgsStatic),
# the check programs built natively, the images around that bootstrap and its Lambda zip.
# Our own arguments (`muslPkgs`, `revision`) have no defaults: the caller passes them.
{ lib, callPackage, muslPkgs, revision }:
let
  workspace = import ./workspace.nix { inherit lib; };

  bootstrap = muslPkgs.callPackage ./bootstrap.nix {
    pname = "faas-runtime";
    package = "faas-runtime";
    binary = "bootstrap";
    inherit (workspace) version cargoLock;
    src = workspace.bootstrapSrc;
  };

  checksTools = callPackage ./checks-tools.nix {
    inherit (workspace) version src cargoLock;
  };

  images = callPackage ./variants.nix {
    inherit bootstrap revision;
    busybox = muslPkgs.busybox;
    # The bootstrap's CPU; the image itself is assembled on the build machine.
    inherit architecture;
  };

  architecture = import ./lib/ociArchitecture.nix muslPkgs.stdenv.hostPlatform;
  # Lambda's names for the two architectures (x86_64, arm64), as images/build-zip.sh's.
  zip = callPackage ./zip.nix {
    inherit checksTools bootstrap;
    name = "faas-runtime-${if muslPkgs.stdenv.hostPlatform.isAarch64 then "arm64" else "x86_64"}.zip";
  };
in
{
  inherit workspace bootstrap checksTools images zip;
}
