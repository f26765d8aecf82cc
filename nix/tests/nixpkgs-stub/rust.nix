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
    let
      target = stdenv.hostPlatform.rust.rustcTarget;
      words = str: builtins.filter (w: builtins.isString w && w != "") (builtins.split " +" str);
      # Some buildRustPackage versions of the nixos-25.11 era export RUSTFLAGS (empty unless
      # the caller sets it; the stored build-rust-package/default.nix sets it for JSON targets
      # and Darwin debug builds). The stub always exports it: the worst case.
      RUSTFLAGS = args.RUSTFLAGS or "";
      exportsRustflags = true;
      # The workspace's own target rustflags (.cargo/config.toml), which cargo uses only when
      # RUSTFLAGS is absent from the environment.
      configFile = if src != null && builtins.pathExists (src + "/.cargo/config.toml") then builtins.fromTOML (builtins.readFile (src + "/.cargo/config.toml")) else { };
      configRustflags = configFile.target.${target}.rustflags or [ ];
      stripAllList = args.stripAllList or [ ];
      stripDebugList = args.stripDebugList or [ "lib" "lib32" "lib64" "libexec" "bin" "sbin" ];
    in
    stdenv.mkDerivation (removeAttrs args [ "depsExtraArgs" "cargoUpdateHook" "cargoLock" "passthru" ] // {
      inherit name RUSTFLAGS;
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

      # What the hooks do with these attributes at build time, for the tests to read.
      passthru = (args.passthru or { }) // {
        stubHooks = {
          # hooks/cargo-build-hook.sh: `cargo build -j $NIX_BUILD_CORES --target <host>
          # --offline --profile <buildType> [--no-default-features] [--features=...]
          # <cargoBuildFlags>`, after `export CARGO_PROFILE_<BUILDTYPE>_STRIP=false`.
          cargoArgs = [ "build" "-j" "$NIX_BUILD_CORES" "--target" target "--offline" ]
            ++ (if buildType != "debug" then [ "--profile" buildType ] else [ ])
            ++ (if buildNoDefaultFeatures then [ "--no-default-features" ] else [ ])
            ++ (if buildFeatures != [ ] then [ "--features=${builtins.concatStringsSep "," buildFeatures}" ] else [ ])
            ++ (args.cargoBuildFlags or [ ]);
          cargoProfileStrip = false;
          # cargo (config/mod.rs, rustflags_from_env): RUSTFLAGS in the environment, even
          # empty, replaces every config file's target rustflags (.cargo/config.toml's, and
          # cargoSetupHook's +crt-static / -crt-static).
          rustflags = if exportsRustflags then words RUSTFLAGS else configRustflags;
          inherit configRustflags;
          # pkgs/build-support/setup-hooks/strip.sh: nothing with dontStrip; `strip -s` on
          # stripAllList; `strip -S` (debug info only) on stripDebugList, whose default holds
          # bin. With cargo's own strip switched off above, that is what the binary gets.
          strip =
            if args.dontStrip or false then "none"
            else if builtins.elem "bin" stripAllList then "all"
            else if builtins.elem "bin" stripDebugList then "debug"
            else "none";
        };
      };
    });
}
