# Mirrors pkgs/build-support/trivial-builders/default.nix: runCommand, writeTextFile,
# writeTextDir, writeShellApplication (same formal arguments; bodies reduced to the derivation).
{ lib, stdenv, stdenvNoCC }:
rec {
  # runCommand = name: env: runCommandWith { stdenv = stdenvNoCC; runLocal = false; inherit name; derivationArgs = env; };
  runCommand = name: env: buildCommand:
    stdenvNoCC.mkDerivation ({ inherit name buildCommand; } // env);

  writeTextFile =
    { name
    , text
    , executable ? false
    , destination ? ""
    , checkPhase ? ""
    , meta ? { }
    , passthru ? { }
    , allowSubstitutes ? false
    , preferLocalBuild ? true
    , derivationArgs ? { }
    }:
      assert destination != "" -> builtins.substring 0 1 destination == "/" && destination != "/";
      let
        matches = builtins.match "/bin/([^/]+)" destination;
      in
      runCommand name
        ({
          inherit text executable checkPhase allowSubstitutes preferLocalBuild passthru;
          meta = (if executable && matches != null then { mainProgram = builtins.head matches; } else { }) // meta;
        } // derivationArgs)
        ''
          target=$out${destination}
          mkdir -p "$(dirname "$target")"
          printf %s "$text" > "$target"
        '';

  writeTextDir = path: text:
    writeTextFile {
      inherit text;
      name = builtins.baseNameOf path;
      destination = "/${path}";
    };

  writeShellApplication =
    { name
    , text
    , runtimeInputs ? [ ]
    , runtimeEnv ? null
    , meta ? { }
    , passthru ? { }
    , checkPhase ? null
    , excludeShellChecks ? [ ]
    , extraShellCheckFlags ? [ ]
    , bashOptions ? [ "errexit" "nounset" "pipefail" ]
    , derivationArgs ? { }
    , inheritPath ? true
    }:
    writeTextFile {
      inherit name meta passthru derivationArgs;
      executable = true;
      destination = "/bin/${name}";
      allowSubstitutes = true;
      preferLocalBuild = false;
      text = ''
        #!/bin/sh
        ${builtins.concatStringsSep "\n" (map (o: "set -o ${o}") bashOptions)}
        export PATH="${builtins.concatStringsSep ":" (map (p: "${p}/bin") runtimeInputs)}${if inheritPath then ":$PATH" else ""}"
        ${text}
      '';
      checkPhase = if checkPhase == null then "" else checkPhase;
    };
}
