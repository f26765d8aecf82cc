# The few nixpkgs lib functions the flake uses, with the real names and argument shapes.
let
  # lib/attrsets.nix
  genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);

  # lib/trivial.nix
  importTOML = path: builtins.fromTOML (builtins.readFile path);

  # lib/strings.nix (lib.replaceStrings is builtins.replaceStrings)
  toUpper = builtins.replaceStrings
    (builtins.genList (i: builtins.substring i 1 "abcdefghijklmnopqrstuvwxyz") 26)
    (builtins.genList (i: builtins.substring i 1 "ABCDEFGHIJKLMNOPQRSTUVWXYZ") 26);

  # lib/meta.nix: getExe x = getExe' x x.meta.mainProgram (the real one warns and falls back
  # to the package name when mainProgram is unset; this one requires it). getExe' asserts
  # that the package is a derivation and the program name a string without a slash.
  getExe = x:
    let
      y = x.meta.mainProgram;
    in
    assert isDerivation x || throw "lib.meta.getExe': The first argument is of type ${builtins.typeOf x}, but it should be a derivation instead.";
    assert builtins.isString y || throw "lib.meta.getExe': The second argument is of type ${builtins.typeOf y}, but it should be a string instead.";
    assert builtins.match ".*/.*" y == null || throw "lib.meta.getExe': The second argument \"${y}\" is a nested path with a \"/\" character, but it should just be the name of the executable instead.";
    "${x}/bin/${y}";

  # lib/attrsets.nix
  optionalAttrs = cond: as: if cond then as else { };

  # lib/attrsets.nix
  isDerivation = value: value.type or null == "derivation";

  # lib/fileset/default.nix. A file set is represented here as a list of existing paths.
  # unions: like the real one, every element must be a path that exists.
  unions = filesets:
    map
      (p:
        if builtins.isPath p && builtins.pathExists p then p
        else throw "lib.fileset.unions: Element ${toString p} is a path that does not exist.")
      (builtins.concatLists (map (f: if builtins.isList f then f else [ f ]) filesets));

  # toSource { root, fileset }: a store path holding only the files in fileset, laid out
  # relative to root.
  toSource = { root, fileset }:
    let
      keep = map toString (unions [ fileset ]);
      under = parent: child: child == parent || builtins.substring 0 (builtins.stringLength parent + 1) child == parent + "/";
    in
    builtins.path {
      name = "source";
      path = root;
      filter = path: _type: builtins.any (k: under k path || under path k) keep;
    };
in
{
  inherit genAttrs importTOML toUpper getExe isDerivation optionalAttrs;
  inherit (builtins) replaceStrings;
  fileset = { inherit unions toSource; };
}
