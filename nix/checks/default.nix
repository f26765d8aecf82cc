# The flake checks, one per file. Each runs the program CI runs (faas-check, faas-emulator,
# cargo, nixpkgs-fmt); none re-implements a check in Nix. Every argument that is ours is
# passed here explicitly (callPackage would fill a defaulted one from a package of that name).
{ callPackage, packages, flakeSource }:
let
  inherit (packages) workspace bootstrap checksTools images zip;
in
{
  image-size = callPackage ./image-size.nix {
    inherit checksTools bootstrap;
    image = images.scratch.tarball;
    budget = 1048576;
    maxPercentAbove = 5;
  };
  image-lambda = callPackage ./image-lambda.nix { inherit checksTools; image = images.scratch.tarball; };
  image-lambda-alpine-equivalent = callPackage ./image-lambda.nix { inherit checksTools; image = images.alpine.tarball; };
  zip-contents = callPackage ./zip-contents.nix { inherit checksTools bootstrap; lambdaZip = zip; };
  startup-time = callPackage ./startup-time.nix { inherit checksTools bootstrap; runs = 20; };
  invocation-tests = callPackage ./invocation-tests.nix { inherit checksTools bootstrap; };
  cargo-test = callPackage ./cargo-test.nix { inherit (workspace) src cargoLock; };
  clippy = callPackage ./clippy.nix { inherit (workspace) src cargoLock; };
  rustfmt = callPackage ./rustfmt.nix { inherit (workspace) src cargoLock; };
  nix-format = callPackage ./nix-format.nix { src = flakeSource; };
}
