# Mirrors pkgs/build-support/docker/default.nix: streamLayeredImage and buildLayeredImage with
# their real formal arguments (nixos-25.11). The real functions are wrapped in
# lib.makeOverridable; the stub leaves that out (the flake never calls .override on them).
# Not mirrored: file times. The real store-path layers are dated `mtime`; the customisation
# layer (contents' symlinks, extraCommands) is tarred with `--mtime "@$SOURCE_DATE_EPOCH"`,
# which stdenv's setup.sh sets to 315532800 (1980-01-01).
{ lib, runCommand, defaultArchitecture }:
rec {
  streamLayeredImage =
    { name
    , tag ? null
    , fromImage ? null
    , contents ? [ ]
    , config ? { }
    , architecture ? defaultArchitecture
    , created ? "1970-01-01T00:00:01Z"
    , mtime ? "1970-01-01T00:00:01Z"
    , uid ? 0
    , gid ? 0
    , uname ? "root"
    , gname ? "root"
    , maxLayers ? 100
    , extraCommands ? ""
    , fakeRootCommands ? ""
    , enableFakechroot ? false
    , includeStorePaths ? true
    , includeNixDB ? false
    , passthru ? { }
    , layeringPipeline ? null
    , debug ? false
    }:
      assert layeringPipeline == null -> maxLayers > 1;
      let
        baseName = baseNameOf name;
        contentsList = if builtins.isList contents then contents else [ contents ];
        # The real baseJson is writeText (builtins.toJSON { inherit config architecture; os = "linux"; }),
        # so a config that cannot be JSON fails evaluation there too.
        baseJson = builtins.toJSON { inherit config architecture; os = "linux"; };
        conf = runCommand "${baseName}-conf.json"
          {
            inherit fromImage created mtime uid gid uname gname baseJson extraCommands fakeRootCommands;
            contents = contentsList;
            imageName = builtins.replaceStrings [ "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O" "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" ] [ "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o" "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" ] name;
            passthru.imageTag = if tag != null then tag else "stub";
          } "exit 1";
      in
      runCommand "stream-${baseName}"
        {
          inherit conf;
          inherit (conf) imageName;
          passthru = passthru // {
            inherit (conf) imageTag;
            inherit conf;
            isExe = true;
          };
        } "exit 1";

  buildLayeredImage = { name, compressor ? "gz", ... }@args:
    assert builtins.elem compressor [ "none" "gz" "zstd" ];
    let
      stream = streamLayeredImage (builtins.removeAttrs args [ "compressor" ]);
      ext = { none = ""; gz = ".gz"; zstd = ".zst"; }.${compressor};
    in
    runCommand "${baseNameOf name}.tar${ext}"
      {
        inherit (stream) imageName;
        passthru = {
          inherit (stream) imageTag;
          inherit stream;
        };
      } "${stream} > $out";
}
