# A function binary linked statically against musl, with the workspace's release profile
# (opt-level z, lto, codegen-units 1, panic abort) and the flags of .cargo/config.toml.
# Call it through a musl package set's callPackage (`pkgsStatic`, or
# `pkgsCross.aarch64-multiplatform-musl` from x86_64) so that stdenv, rustPlatform and the C
# compiler (jemalloc's C code) all target <arch>-unknown-linux-musl.
#
# Every argument below the first three is ours and has no default: callPackage fills any
# formal argument whose name nixpkgs has as a package, defaults included (nixpkgs has a
# package named `binary`), so the caller passes each one explicitly.
{ lib
, stdenv
, rustPlatform
, pname
, version
, src
, cargoLock
, package
, binary
}:
let
  target = stdenv.hostPlatform.rust.rustcTarget;
  # cc-rs looks up CC_<target with underscores>, lower case. The workspace's .cargo/config.toml
  # sets it for both musl targets to Debian's compilers (musl-gcc, images/aarch64-linux-musl-gcc),
  # absent here; an environment variable wins over a non-forced [env] entry, so name nixpkgs'
  # musl compiler. (Its `linker = "rust-lld"` for aarch64 gives way to nixpkgs' exported
  # CARGO_TARGET_<TRIPLE>_LINKER likewise.)
  # (nixpkgs' own CC_X86_64_UNKNOWN_LINUX_MUSL is upper case, which cc-rs does not read.)
  ccVar = "CC_" + lib.replaceStrings [ "-" ] [ "_" ] target;
in
rustPlatform.buildRustPackage {
  inherit pname version src cargoLock;

  cargoBuildFlags = [ "--package" package "--bin" binary ];
  env.${ccVar} = "${stdenv.cc.targetPrefix}cc";

  # Set here, not left to .cargo/config.toml: when RUSTFLAGS is in the environment (some
  # buildRustPackage versions export it, empty or not) cargo ignores every config file's
  # rustflags, and the binary silently becomes static-pie. The list is the config's
  # (relocation-model=static: no interpreter, no dynamic section, no relocation table) plus
  # what cargoSetupHook's config asks for a static host (+crt-static), which RUSTFLAGS also
  # replaces.
  RUSTFLAGS = "-C relocation-model=static -C target-feature=+crt-static";

  # A full strip. nixpkgs' cargoBuildHook exports CARGO_PROFILE_RELEASE_STRIP=false (stdenv
  # strips instead), and stdenv's default is `strip -S` on bin/ (debug info only): the
  # symbol table would stay (about 360 KB). stripAllList gets `strip -s`, like the
  # Dockerfiles' `strip = true`.
  stripAllList = [ "bin" ];

  # Built like the Dockerfiles' binary (no cargo-auditable section), so sizes compare.
  auditable = false;
  # The tests run natively in the cargo-test check.
  doCheck = false;
  # The image holds this binary alone: any path into the Nix store fails the build.
  allowedReferences = [ ];

  # What the tests check (nix/tests/attributes.py): the triple and a static package set.
  passthru = { inherit target; inherit (stdenv.hostPlatform) isStatic; };

  meta = {
    description = "Static musl build of ${package}'s ${binary} binary";
    mainProgram = binary;
  };
}
