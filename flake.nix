{
  description = "faas-runtime: a tiny AWS Lambda Runtime API client in small, bit-reproducible OCI images";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs = { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      forAllSystems = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ];
      pkgsFor = system: nixpkgs.legacyPackages.${system};
      revision = self.rev or "dirty";

      # The project's derivations for one system (nix/packages.nix), the bootstrap built
      # with `muslPkgs`: the system's own static musl set, or a cross one.
      ourWith = system: muslPkgs: (pkgsFor system).callPackage ./nix/packages.nix {
        inherit muslPkgs revision;
      };
      ours = forAllSystems (system: ourWith system (pkgsFor system).pkgsStatic);
      # arm64 (Graviton) from an x86_64 machine: pkgsStatic of the aarch64 musl cross set,
      # i.e. aarch64-unknown-linux-musl, static. On aarch64-linux `.#image` is built natively.
      crossAarch64 = ourWith "x86_64-linux" (pkgsFor "x86_64-linux").pkgsCross.aarch64-multiplatform-musl.pkgsStatic;

      outputsOf = p: {
        default = p.bootstrap;
        bootstrap = p.bootstrap;
        checks-tools = p.checksTools;
        image = p.images.scratch.stream;
        image-tarball = p.images.scratch.tarball;
        image-alpine-equivalent = p.images.alpine.stream;
        image-alpine-equivalent-tarball = p.images.alpine.tarball;
        zip = p.zip;
      };
    in
    {
      packages = forAllSystems (system: outputsOf ours.${system})
        // {
        x86_64-linux = outputsOf ours.x86_64-linux // {
          bootstrap-aarch64 = crossAarch64.bootstrap;
          image-aarch64 = crossAarch64.images.scratch.stream;
          image-aarch64-tarball = crossAarch64.images.scratch.tarball;
          zip-aarch64 = crossAarch64.zip;
        };
      };

      # checks and apps are sets, not packages: imported with their arguments rather than
      # callPackage'd (callPackage would add `override` to the set, which is no check or app).
      checks = forAllSystems (system: import ./nix/checks {
        inherit (pkgsFor system) callPackage;
        packages = ours.${system};
        flakeSource = self;
      });

      devShells = forAllSystems (system: {
        default = (pkgsFor system).callPackage ./nix/shell.nix {
          inherit (ours.${system}) checksTools;
        };
      });

      apps = forAllSystems (system: import ./nix/apps.nix {
        inherit (pkgsFor system) lib writeShellApplication curl;
        inherit (ours.${system}) checksTools bootstrap;
      });

      formatter = forAllSystems (system: (pkgsFor system).callPackage ./nix/formatter.nix { });

      # A user's function crate: bootstrap, images, zip and flake checks (nix/lib/mkFunction.nix).
      # mkFunctionImage is the earlier name, kept so existing flakes keep evaluating.
      lib.mkFunction = import ./nix/lib/mkFunction.nix;
      lib.mkFunctionImage = import ./nix/lib/mkFunction.nix;

      # `nix flake init -t github:faas-runtime/faas-runtime`: a function crate with its flake.
      templates.default = {
        path = ./templates/default;
        description = "An AWS Lambda function on faas-runtime: crate, Cargo.lock, flake with zip, images and checks";
      };
      # `nix flake init -t github:faas-runtime/faas-runtime#http`: an axum app (run_http) behind
      # function URLs, API Gateway and ALBs, serving plain HTTP on $PORT outside Lambda.
      templates.http = {
        path = ./templates/http;
        description = "An axum app as an AWS Lambda function on faas-runtime (run_http): crate, Cargo.lock, flake with zip, images and checks";
      };
    };
}
