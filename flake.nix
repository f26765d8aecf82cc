{
  description = "faas-runtime: a tiny AWS Lambda Runtime API client in small, bit-reproducible OCI images";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs = { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      forAllSystems = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ];
      pkgsFor = system: nixpkgs.legacyPackages.${system};

      # The project's derivations, once per system (nix/packages.nix).
      ours = forAllSystems (system: (pkgsFor system).callPackage ./nix/packages.nix {
        revision = self.rev or "dirty";
      });
    in
    {
      packages = forAllSystems (system:
        let
          p = ours.${system};
        in
        {
          default = p.bootstrap;
          bootstrap = p.bootstrap;
          checks-tools = p.checksTools;
          image = p.images.scratch.stream;
          image-tarball = p.images.scratch.tarball;
          image-alpine-equivalent = p.images.alpine.stream;
          image-alpine-equivalent-tarball = p.images.alpine.tarball;
        });

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

      lib.mkFunctionImage = import ./nix/lib/mkFunctionImage.nix;
    };
}
