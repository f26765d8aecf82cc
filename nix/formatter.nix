# `nix fmt`: nixpkgs-fmt, the Nix formatter CI can install too (crates.io, same version as
# nixpkgs'). Newer Nix calls the formatter without arguments; format the tree then.
{ writeShellApplication, nixpkgs-fmt }:
writeShellApplication {
  name = "nix-fmt";
  runtimeInputs = [ nixpkgs-fmt ];
  text = ''
    if [ "$#" -eq 0 ]; then set -- .; fi
    exec nixpkgs-fmt "$@"
  '';
}
