# The project's derivations for one system, from that system's nixpkgs.
{ lib, callPackage, pkgsStatic, revision }:
let
  workspace = import ./workspace.nix { inherit lib; };

  bootstrap = pkgsStatic.callPackage ./bootstrap.nix {
    pname = "faas-runtime";
    inherit (workspace) version src cargoLock;
  };

  checksTools = callPackage ./checks-tools.nix {
    inherit (workspace) version src cargoLock;
  };

  images = callPackage ./variants.nix {
    inherit bootstrap revision;
    busybox = pkgsStatic.busybox;
  };
in
{
  inherit workspace bootstrap checksTools images;
}
