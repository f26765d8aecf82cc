# stdenv for one platform: mkDerivation, hostPlatform and the C compiler.
# Mirrors pkgs/stdenv/generic/make-derivation.nix (mkDerivation, hardening), lib/systems/default.nix
# (hostPlatform.rust.rustcTarget, isStatic, parsed.cpu.name) and pkgs/build-support/cc-wrapper
# (cc.targetPrefix). `system` is the build machine; the stdenv builds for hostArch.
{ lib, system, hostArch, static, libcMusl }:
let
  buildArch = builtins.head (builtins.split "-" system);
  arch = hostArch;
  triple = "${arch}-unknown-linux-${if libcMusl then "musl" else "gnu"}";
  isCross = hostArch != buildArch;

  # make-derivation.nix: NIX_HARDENING_ENABLE is the default hardening flags (the
  # bintools-wrapper's defaultHardeningFlags, which include fortify and fortify3) plus
  # hardeningEnable minus hardeningDisable; "all" disables everything, and disabling fortify
  # disables fortify3 too. cc-wrapper's add-hardening.sh drops fortify when fortify3 is on and
  # turns fortify3 into
  # `-O2 -U_FORTIFY_SOURCE <the caller's flags> -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3`: a caller's
  # -O0 wins, and glibc's headers then warn on every compile. Only the fortify flags matter to
  # the tests; the rest of the list is not checked against nixpkgs.
  defaultHardeningFlags = [ "bindnow" "format" "fortify" "fortify3" "pic" "relro" "stackclashprotection" "stackprotector" "strictoverflow" "zerocallusedregs" ];
  hardening = attrs:
    let
      disable0 = attrs.hardeningDisable or [ ];
      disable = disable0 ++ (if builtins.elem "fortify" disable0 then [ "fortify3" ] else [ ]);
    in
    if builtins.elem "all" disable then [ ]
    else builtins.filter (f: !(builtins.elem f disable)) (defaultHardeningFlags ++ (attrs.hardeningEnable or [ ]));

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
          NIX_HARDENING_ENABLE = builtins.concatStringsSep " " (hardening attrs);
          inherit name system;
          builder = "/bin/sh";
          args = [ "-c" "echo 'nixpkgs-stub: evaluation only, nothing can be built' >&2; exit 1" ];
        }
      );
    in
    drv // (attrs.passthru or { }) // { meta = attrs.meta or { }; };

  hostPlatform = {
    system = "${arch}-linux";
    config = triple;
    isLinux = true;
    isStatic = static;
    isMusl = libcMusl;
    isAarch64 = arch == "aarch64";
    isx86_64 = arch == "x86_64";
    parsed.cpu.name = arch;
    rust.rustcTarget = triple;
  };

  # A cross or static compiler carries the target triple as prefix (aarch64-unknown-linux-musl-cc).
  cc = mkDerivation {
    name = "${if libcMusl || isCross then triple + "-" else ""}gcc-wrapper-14.3.0";
    passthru.targetPrefix = if libcMusl || isCross then triple + "-" else "";
  };
in
{
  stdenv = {
    inherit mkDerivation hostPlatform cc system;
    buildPlatform = {
      inherit system;
      config = "${buildArch}-unknown-linux-gnu";
      isStatic = false;
      parsed.cpu.name = buildArch;
      rust.rustcTarget = "${buildArch}-unknown-linux-gnu";
    };
  };
  stdenvNoCC = { inherit mkDerivation hostPlatform system; };
}
