# Mirrors pkgs/build-support/mkshell/default.nix: the same named arguments and `...`
# (everything else, env included, goes to stdenv.mkDerivation).
{ stdenv }:
{ name ? "nix-shell"
, packages ? [ ]
, inputsFrom ? [ ]
, buildInputs ? [ ]
, nativeBuildInputs ? [ ]
, propagatedBuildInputs ? [ ]
, propagatedNativeBuildInputs ? [ ]
, ...
}@attrs:
stdenv.mkDerivation (removeAttrs attrs [ "packages" "inputsFrom" ] // {
  inherit name buildInputs propagatedBuildInputs propagatedNativeBuildInputs;
  nativeBuildInputs = packages ++ nativeBuildInputs;
  shellHook = attrs.shellHook or "";
  phases = [ "buildPhase" ];
})
