# A function binary linked statically against musl, with the workspace's release profile
# (opt-level z, lto, codegen-units 1, strip, panic abort). Call it through
# `pkgsStatic.callPackage` so that stdenv, rustPlatform and the C compiler (jemalloc's C code)
# all target <arch>-unknown-linux-musl.
{ lib
, stdenv
, rustPlatform
, pname
, version
, src
, cargoLock
, package ? pname
, binary ? "bootstrap"
}:
let
  # cc-rs looks up CC_<target with underscores>, lower case. The workspace's .cargo/config.toml
  # sets CC_x86_64_unknown_linux_musl = "musl-gcc" (Debian's wrapper, absent here); an
  # environment variable wins over a non-forced [env] entry, so name nixpkgs' musl compiler.
  # (nixpkgs' own CC_X86_64_UNKNOWN_LINUX_MUSL is upper case, which cc-rs does not read.)
  ccVar = "CC_" + lib.replaceStrings [ "-" ] [ "_" ] stdenv.hostPlatform.rust.rustcTarget;
in
rustPlatform.buildRustPackage {
  inherit pname version src cargoLock;

  cargoBuildFlags = [ "--package" package "--bin" binary ];
  env.${ccVar} = "${stdenv.cc.targetPrefix}cc";

  # Built like the Dockerfiles' binary (no cargo-auditable section), so sizes compare.
  auditable = false;
  # The tests run natively in the cargo-test check.
  doCheck = false;
  # The image holds this binary alone: any path into the Nix store fails the build.
  allowedReferences = [ ];

  meta = {
    description = "Static musl build of ${package}'s ${binary} binary";
    mainProgram = binary;
  };
}
