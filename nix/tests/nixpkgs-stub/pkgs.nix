# The package set for one platform (pkgs/top-level/all-packages.nix, pkgs/top-level/stage.nix):
# callPackage, pkgsStatic, pkgsCross, the build helpers and the leaf packages the flake names.
# Leaf packages are empty derivations carrying their pname and meta.mainProgram.
#
# `system` is the build machine; `hostArch` and `static` say what the set's stdenv builds for
# (x86_64 or aarch64; static musl or glibc).
{ lib, system }:
let
  buildArch = builtins.head (builtins.split "-" system);

  mkSet = { hostArch, static, libcMusl ? static }:
    let
      self = import ./stdenv.nix { inherit lib system hostArch static libcMusl; } // rec {
        inherit lib;

        # lib/customisation.nix callPackageWith: `auto = builtins.intersectAttrs
        # (lib.functionArgs f) autoArgs; in makeOverridable f (auto // args)`. Every formal
        # argument the package set has an attribute for is filled, *defaults included*, then
        # the explicit arguments override.
        #
        # Strictness the real one lacks, on purpose: a formal argument with a default that the
        # caller does not pass and that is not a package of this stub fails evaluation, naming
        # the argument and the file. Real nixpkgs has some 100,000 attributes (a package named
        # `binary`, for one): the stub cannot know whether a name is free there, so a defaulted
        # argument of ours must be passed explicitly or it is an error here. Names this stub
        # does have (`binary` included) are filled exactly as nixpkgs fills them.
        callPackage = fn: args:
          let
            f = if builtins.isFunction fn then fn else import fn;
            where = if builtins.isFunction fn then "a function given to callPackage" else toString fn;
            formals = builtins.functionArgs f;
            unpassed = builtins.filter (n: formals.${n} && !(args ? ${n}) && !(self ? ${n})) (builtins.attrNames formals);
          in
          if unpassed != [ ] then
            throw
              ("nixpkgs-stub: callPackage ${where}: the defaulted argument `${builtins.head unpassed}` is not passed by the caller. "
                + "Real callPackage (lib/customisation.nix) fills it from any nixpkgs attribute of that name instead of the default; pass it explicitly.")
          else makeOverridable f (builtins.intersectAttrs formals self // args);

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

        # pkgs/top-level/stage.nix: pkgsStatic is the set for the static musl platform of the
        # same CPU; buildPackages is the set of tools that run on the build machine;
        # pkgsCross.<example> (lib/systems/examples.nix) builds for another platform.
        # aarch64-multiplatform-musl is { config = "aarch64-unknown-linux-musl"; }, not static:
        # its pkgsStatic is.
        pkgsStatic = if static then self else mkSet { inherit hostArch; static = true; };
        buildPackages = if hostArch == buildArch && !libcMusl then self else mkSet { hostArch = buildArch; static = false; };
        pkgsCross = {
          aarch64-multiplatform-musl = mkSet { hostArch = "aarch64"; static = false; libcMusl = true; };
        };

        inherit (import ./trivial-builders.nix { inherit lib; inherit (self) stdenv stdenvNoCC; })
          runCommand writeTextFile writeTextDir writeShellApplication;

        # pkgs/build-support/docker/default.nix is called with the build machine's packages
        # here; `architecture` defaults to the build machine's (go.GOARCH).
        dockerTools = import ./docker.nix {
          inherit lib runCommand;
          defaultArchitecture = if buildArch == "aarch64" then "arm64" else "amd64";
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
        unzip = leaf "unzip" "unzip";
        # pkgs/by-name/zi/zip: Info-ZIP's zip. Here because `zip` is a name our files must
        # not take as a formal argument (it would be filled with this).
        zip = leaf "zip" "zip";
        busybox = leaf "busybox" "busybox";
        binutils = leaf "binutils-wrapper" "strip";
        # pkgs/by-name/bi/binary/package.nix: a GTK number-base converter. Here because the
        # name is a classic trap: a formal argument `binary` is filled with this derivation.
        binary = leaf "binary-0.3" "binary";
      };
      leaf = name: mainProgram: self.stdenv.mkDerivation { inherit name; meta = { inherit mainProgram; }; };
    in
    self;
in
mkSet { hostArch = buildArch; static = false; }
