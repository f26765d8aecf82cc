# Mirrors pkgs/build-support/rust: rustPlatform.buildRustPackage
# (build-rust-package/default.nix), rustPlatform.importCargoLock (import-cargo-lock.nix) and
# rustPlatform.cargoSetupHook (hooks/default.nix).
{ lib, stdenv, cargo, rustc }:
rec {
  importCargoLock =
    { lockFile ? null
    , lockFileContents ? null
    , allowBuiltinFetchGit ? false
    , extraRegistries ? { }
    , outputHashes ? { }
    }@args:
      assert (lockFile == null) != (lockFileContents == null);
      let
        contents = if lockFile != null then builtins.readFile lockFile else args.lockFileContents;
        # The real one parses the lock file at evaluation time (one fetchurl per package).
        parsed = builtins.fromTOML contents;
      in
      stdenv.mkDerivation {
        name = "cargo-vendor-dir";
        lockFileContents = contents;
        packages = toString (builtins.length (parsed.package or [ ]));
      };

  cargoSetupHook = stdenv.mkDerivation { name = "cargo-setup-hook.sh"; };

  # The real function is lib.extendMkDerivation { constructDrv = stdenv.mkDerivation; ... }
  # whose argument set is below (it has `...`: the rest goes to stdenv.mkDerivation).
  buildRustPackage =
    { name ? "${args.pname}-${args.version}"
    , cargoDepsName ? name
    , src ? null
    , srcs ? null
    , preUnpack ? null
    , unpackPhase ? null
    , postUnpack ? null
    , cargoPatches ? [ ]
    , patches ? [ ]
    , sourceRoot ? null
    , cargoRoot ? null
    , logLevel ? ""
    , buildInputs ? [ ]
    , nativeBuildInputs ? [ ]
    , cargoUpdateHook ? ""
    , cargoDepsHook ? ""
    , buildType ? "release"
    , meta ? { }
    , useFetchCargoVendor ? true
    , cargoDeps ? null
    , cargoLock ? null
    , cargoVendorDir ? null
    , checkType ? buildType
    , buildNoDefaultFeatures ? false
    , checkNoDefaultFeatures ? buildNoDefaultFeatures
    , buildFeatures ? [ ]
    , checkFeatures ? buildFeatures
    , useNextest ? false
    , auditable ? true
    , depsExtraArgs ? { }
    , buildAndTestSubdir ? null
    , ...
    }@args:
    stdenv.mkDerivation (removeAttrs args [ "depsExtraArgs" "cargoUpdateHook" "cargoLock" ] // {
      inherit name;
      cargoDeps =
        if cargoVendorDir != null then null
        else if cargoDeps != null then cargoDeps
        else if cargoLock != null then importCargoLock cargoLock
        else if args.cargoHash or null == null then throw "cargoHash, cargoVendorDir, cargoDeps, or cargoLock must be set"
        else stdenv.mkDerivation { name = "${cargoDepsName}-vendor"; hash = args.cargoHash; };
      inherit buildAndTestSubdir;
      cargoBuildType = buildType;
      cargoCheckType = checkType;
      cargoBuildNoDefaultFeatures = buildNoDefaultFeatures;
      cargoBuildFeatures = buildFeatures;
      nativeBuildInputs = nativeBuildInputs ++ [ cargoSetupHook rustc cargo ];
      doCheck = args.doCheck or true;
      strictDeps = true;
      meta = meta // { platforms = meta.platforms or [ "x86_64-linux" "aarch64-linux" ]; };
    });
}
