# A user's function crate packaged with faas-runtime's lib.mkFunctionImage: the example of
# nix/README.md, evaluated by nix/tests/eval.sh (the crate here is a dependency-free stand-in).
{
  description = "my-function: an AWS Lambda function built into a small OCI image";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";
    faas-runtime.url = "github:faas-runtime/faas-runtime";
    faas-runtime.inputs.nixpkgs.follows = "nixpkgs";
  };

  outputs = { self, nixpkgs, faas-runtime }:
    let
      forAllSystems = nixpkgs.lib.genAttrs [ "x86_64-linux" "aarch64-linux" ];
      function = system: faas-runtime.lib.mkFunctionImage {
        pkgs = nixpkgs.legacyPackages.${system};
        pname = "my-function";
        version = "0.1.0";
        src = ./.;
        cargoLock.lockFile = ./Cargo.lock;
        binary = "my-function";
        revision = self.rev or "dirty";
      };
    in
    {
      packages = forAllSystems (system: {
        default = (function system).image;
        bootstrap = (function system).bootstrap;
        image-tarball = (function system).image-tarball;
      });
    };
}
