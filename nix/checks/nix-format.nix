# The Nix files are formatted as `nix fmt` (nixpkgs-fmt) leaves them; CI runs the same
# program from crates.io (nix/tests/eval.sh).
{ runCommand, nixpkgs-fmt, src }:
runCommand "faas-nix-format" { nativeBuildInputs = [ nixpkgs-fmt ]; } ''
  nixpkgs-fmt --check ${src}
  touch $out
''
