# The package set for one system (pkgs/top-level/all-packages.nix, pkgs/top-level/stage.nix):
# callPackage, pkgsStatic, the build helpers and the leaf packages the flake names.
# Leaf packages are empty derivations carrying their pname and meta.mainProgram.
{ lib, system }:
let
  mkSet = static:
    let
      self = import ./stdenv.nix { inherit lib system static; } // rec {
        inherit lib;

        # lib/customisation.nix callPackageWith: the function's formal arguments are filled
        # from the package set, then overridden by the explicit ones; a required argument
        # that neither provides fails evaluation. The result goes through makeOverridable,
        # which adds `override` and `overrideDerivation` to any attribute set it returns.
        callPackage = fn: args:
          let
            f = if builtins.isFunction fn then fn else import fn;
          in
          makeOverridable f (builtins.intersectAttrs (builtins.functionArgs f) self // args);

        makeOverridable = f: origArgs:
          let
            result = f origArgs;
          in
          if builtins.isAttrs result then
            result // {
              override = newArgs: makeOverridable f (origArgs // (if builtins.isFunction newArgs then newArgs origArgs else newArgs));
              overrideDerivation = _: throw "nixpkgs-stub: overrideDerivation is not mirrored";
            }
          else result;

        # pkgs/top-level/stage.nix: pkgsStatic is the set for the static musl platform;
        # buildPackages is the set of tools that run on the build machine.
        pkgsStatic = if static then self else mkSet true;
        buildPackages = if static then mkSet false else self;

        inherit (import ./trivial-builders.nix { inherit lib; inherit (self) stdenv stdenvNoCC; })
          runCommand writeTextFile writeTextDir writeShellApplication;

        dockerTools = import ./docker.nix {
          inherit lib runCommand;
          defaultArchitecture = if builtins.substring 0 7 system == "aarch64" then "arm64" else "amd64";
        };

        rustPlatform = import ./rust.nix { inherit lib; inherit (self) stdenv cargo rustc; };

        mkShell = import ./mkshell.nix { inherit (self) stdenv; };

        # Leaf packages: pkgs/by-name/<xx>/<name>/package.nix or pkgs/development/compilers/rust.
        cargo = leaf "cargo" "cargo";
        rustc = leaf "rustc" "rustc";
        clippy = leaf "clippy" "cargo-clippy";
        rustfmt = leaf "rustfmt" "rustfmt";
        nixpkgs-fmt = leaf "nixpkgs-fmt" "nixpkgs-fmt";
        podman = leaf "podman" "podman";
        buildah = leaf "buildah" "buildah";
        skopeo = leaf "skopeo" "skopeo";
        curl = leaf "curl" "curl";
        busybox = leaf "busybox" "busybox";
      };
      leaf = name: mainProgram: self.stdenv.mkDerivation { inherit name; meta = { inherit mainProgram; }; };
    in
    self;
in
mkSet false
