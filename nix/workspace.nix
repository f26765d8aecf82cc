# The Rust workspace as every Nix build sees it: only the files cargo needs, so that editing
# nix/, images/ or the README rebuilds nothing. The version comes from runtime/Cargo.toml.
#
# - `bootstrapSrc`, for the static bootstrap (and so every image and zip): the runtime crate
#   and the manifests of the other workspace members. Cargo loads every member's Cargo.toml
#   to resolve the workspace, but compiles only faas-runtime, so the members' sources, the
#   check scripts and the tests stay out: editing them does not rebuild the bootstrap.
# - `src`, for the check programs and the cargo checks: all of checks/ that cargo reads
#   (sources, tests, the peers' workspace member), without the shell and Python scripts.
{ lib }:
let
  common = [
    ../Cargo.toml
    ../Cargo.lock
    ../.cargo
    ../runtime
    ../checks/Cargo.toml
    ../checks/peers/ours/Cargo.toml
  ];
in
{
  bootstrapSrc = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions common;
  };
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions (common ++ [
      ../checks/src
      ../checks/tests
      ../checks/peers
    ]);
  };
  cargoLock.lockFile = ../Cargo.lock;
  version = (lib.importTOML ../runtime/Cargo.toml).package.version;
}
