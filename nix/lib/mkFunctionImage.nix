# Build a user's own function crate the way faas-runtime builds its bootstrap: a static musl
# binary (nix/bootstrap.nix) and a layered image with it at /bootstrap (nix/image.nix).
#
#   faas-runtime.lib.mkFunctionImage {
#     pkgs = nixpkgs.legacyPackages.x86_64-linux;
#     pname = "my-function";
#     version = "0.1.0";
#     src = ./.;
#     cargoLock.lockFile = ./Cargo.lock;
#     binary = "my-function";          # the [[bin]] to build; default: pname
#     # arm64 from x86_64: muslPkgs = pkgs.pkgsCross.aarch64-multiplatform-musl.pkgsStatic;
#   }
#   => { bootstrap; image; image-tarball; }   (image: streamLayeredImage; image-tarball: .tar.gz)
{ pkgs
, pname
, version
, src
, cargoLock
, binary ? pname
, package ? pname
, revision ? "unknown"
, source ? "unknown"
, description ? "${pname}: an AWS Lambda function on faas-runtime"
, muslPkgs ? pkgs.pkgsStatic
}:
let
  # Called with import, not callPackage: the defaults above are ours. Every argument of our
  # own files is passed explicitly below (callPackage would fill one from a package).
  bootstrap = muslPkgs.callPackage ../bootstrap.nix {
    inherit pname version src cargoLock package binary;
  };
  image = pkgs.callPackage ../image.nix {
    inherit bootstrap revision source description;
    name = pname;
    title = pname;
    extraContents = [ ];
    architecture = import ./ociArchitecture.nix muslPkgs.stdenv.hostPlatform;
  };
in
{
  inherit bootstrap;
  image = image.stream;
  image-tarball = image.tarball;
}
