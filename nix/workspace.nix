# The Rust workspace as every Nix build sees it: only the files cargo needs, so that editing
# nix/, images/ or the README rebuilds nothing. The version comes from runtime/Cargo.toml.
{ lib }:
{
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      ../.cargo
      ../runtime
      ../checks
    ];
  };
  cargoLock.lockFile = ../Cargo.lock;
  version = (lib.importTOML ../runtime/Cargo.toml).package.version;
}
