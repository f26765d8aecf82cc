# The project's derivations for one system: the static bootstrap built with `muslPkgs` (the
# host's pkgsStatic, or a cross set such as pkgsCross.aarch64-multiplatform-musl.pkgsStatic),
# the check programs built natively, and the images around that bootstrap.
# Our own arguments (`muslPkgs`, `revision`) have no defaults: the caller passes them.
{ lib, callPackage, muslPkgs, revision }:
let
  workspace = import ./workspace.nix { inherit lib; };

  bootstrap = muslPkgs.callPackage ./bootstrap.nix {
    pname = "faas-runtime";
    package = "faas-runtime";
    binary = "bootstrap";
    inherit (workspace) version src cargoLock;
  };

  checksTools = callPackage ./checks-tools.nix {
    inherit (workspace) version src cargoLock;
  };

  images = callPackage ./variants.nix {
    inherit bootstrap revision;
    busybox = muslPkgs.busybox;
    # The bootstrap's CPU; the image itself is assembled on the build machine.
    architecture = import ./lib/ociArchitecture.nix muslPkgs.stdenv.hostPlatform;
  };
in
{
  inherit workspace bootstrap checksTools images;
}
