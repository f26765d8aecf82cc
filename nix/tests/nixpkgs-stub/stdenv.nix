# stdenv for one platform: mkDerivation, hostPlatform and the C compiler.
# Mirrors pkgs/stdenv/generic/make-derivation.nix (mkDerivation), lib/systems/default.nix
# (hostPlatform.rust.rustcTarget, isStatic) and pkgs/build-support/cc-wrapper (cc.targetPrefix).
{ lib, system, static }:
let
  arch = builtins.head (builtins.split "-" system);
  triple = "${arch}-unknown-linux-${if static then "musl" else "gnu"}";

  # Values builtins.derivation can put in the environment; meta, passthru, functions and
  # plain attribute sets stay out, as in the real mkDerivation.
  envValue = v:
    builtins.isString v || builtins.isBool v || builtins.isInt v || builtins.isPath v || v == null
    || lib.isDerivation v
    || (builtins.isList v && builtins.all (e: builtins.isString e || builtins.isPath e || lib.isDerivation e) v);

  # make-derivation.nix: mkDerivation takes an attribute set with many optional attributes
  # (it has `...`), merges `env` into the environment and `passthru` into the result.
  mkDerivation = attrs:
    let
      name = attrs.name or "${attrs.pname}-${attrs.version}";
      plain = removeAttrs attrs [ "meta" "passthru" "env" "name" ];
      env = attrs.env or { };
      drv = derivation (
        builtins.intersectAttrs
          (builtins.listToAttrs (map (n: { name = n; value = null; })
            (builtins.filter (n: envValue plain.${n}) (builtins.attrNames plain))))
          plain
        // env
        // {
          inherit name system;
          builder = "/bin/sh";
          args = [ "-c" "echo 'nixpkgs-stub: evaluation only, nothing can be built' >&2; exit 1" ];
        }
      );
    in
    drv // (attrs.passthru or { }) // { meta = attrs.meta or { }; };

  hostPlatform = {
    inherit system;
    config = triple;
    isLinux = true;
    isStatic = static;
    isMusl = static;
    rust.rustcTarget = triple;
  };

  cc = mkDerivation {
    name = "${if static then triple + "-" else ""}gcc-wrapper-14.3.0";
    passthru.targetPrefix = if static then triple + "-" else "";
  };
in
{
  stdenv = { inherit mkDerivation hostPlatform cc system; buildPlatform = hostPlatform // { isStatic = false; }; };
  stdenvNoCC = { inherit mkDerivation hostPlatform system; };
}
