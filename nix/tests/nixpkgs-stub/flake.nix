# An evaluation-only stand-in for nixpkgs, used by nix/tests/eval.sh:
#
#   nix flake check --no-build --override-input nixpkgs path:./nix/tests/nixpkgs-stub
#
# It defines exactly the nixpkgs functions and attributes that faas-runtime's flake uses, each
# with the same formal arguments as the real one (so a misspelled or removed argument fails
# evaluation here as it would against nixpkgs), and a comment naming the nixpkgs file it
# mirrors (nixos-25.11). Every function returns a real derivation made with
# builtins.derivation, so `nix flake check --no-build` computes drvPaths; nothing here can be
# built: every builder exits 1.
{
  description = "Evaluation-only stand-in for the parts of nixpkgs used by faas-runtime";

  outputs = { self }:
    let
      lib = import ./lib.nix;
    in
    {
      inherit lib;
      legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (system: import ./pkgs.nix { inherit lib system; });
    };
}
