# A user's whole kit for one function crate, built the way faas-runtime builds its own
# bootstrap, and checked by the same programs as ours (faas-check, faas-emulator):
#
#   kit = faas-runtime.lib.mkFunction {
#     pkgs = nixpkgs.legacyPackages.x86_64-linux;
#     pname = "my-function";
#     version = "0.1.0";
#     src = ./.;
#     cargoLock.lockFile = ./Cargo.lock;
#     # binary = "my-function";        # the [[bin]] to build; default: pname
#     # aarch64 = true;                # arm64 (Graviton), cross-built when pkgs is x86_64
#     # imageBudget = 1048576;         # compressed image bytes the image-size check allows
#     # event = ./events/hello.json;   # the invocation check: this event ...
#     # expected = ./events/hello.expected.json;   # ... must give this answer, or
#     # judge = "grep -q Hello";       # ... this command (answer on stdin, event as $1) accepts it
#   };
#   => { bootstrap; image; image-tarball; zip; checks = { image-size; image-lambda; zip-contents; startup-time; invocation; }; }
#
# `image` is dockerTools.streamLayeredImage (`./result | podman load`), `image-tarball` the same
# image as a .tar.gz, `zip` the Lambda deployment package (`bootstrap` at its root). The
# checks: image-size (the image within `imageBudget` compressed bytes and within
# `maxPercentAbove` % of its Dockerfile-equivalent, the binary fully stripped and non-PIE),
# image-lambda (pushed by skopeo, the image is one Lambda takes: `faas-check lambda-image`),
# zip-contents (bootstrap alone, 0755, the binary's bytes), startup-time (`faas-check
# startup`), invocation (only when `event` is given). The last two run the binary, so they
# exist only when the build machine runs it natively (not for an arm64 kit on x86_64).
#
# A plain function (`import`), so its defaults are its own; every argument of our own nix
# files is passed explicitly (callPackage would fill a defaulted one from a package).
{ pkgs
, pname
, version
, src
, cargoLock
, binary ? pname
, package ? pname
, revision ? "unknown"
, source ? "unknown"
, description ? "${pname}: an AWS Lambda function on faas-runtime"
, aarch64 ? false
, muslPkgs ? (if aarch64 then pkgs.pkgsCross.aarch64-multiplatform-musl.pkgsStatic else pkgs.pkgsStatic)
, imageBudget ? 1048576
, maxPercentAbove ? 5
, startupRuns ? 20
, event ? null
, expected ? null
, judge ? null
}:
let
  platform = muslPkgs.stdenv.hostPlatform;
  architecture = import ./ociArchitecture.nix platform;
  runsHere = platform.parsed.cpu.name == pkgs.stdenv.hostPlatform.parsed.cpu.name;

  # The check programs come from faas-runtime's own workspace, built for the build machine.
  workspace = import ../workspace.nix { inherit (pkgs) lib; };
  checksTools = pkgs.callPackage ../checks-tools.nix {
    inherit (workspace) version src cargoLock;
  };

  bootstrap = muslPkgs.callPackage ../bootstrap.nix {
    inherit pname version src cargoLock package binary;
  };
  image = pkgs.callPackage ../image.nix {
    inherit bootstrap revision source description architecture;
    name = pname;
    title = pname;
    extraContents = [ ];
  };
  zip = pkgs.callPackage ../zip.nix {
    inherit checksTools bootstrap;
    name = "${pname}-${if platform.isAarch64 then "arm64" else "x86_64"}.zip";
  };

  checks = {
    image-size = pkgs.callPackage ../checks/image-size.nix {
      inherit checksTools bootstrap maxPercentAbove;
      image = image.tarball;
      budget = imageBudget;
    };
    image-lambda = pkgs.callPackage ../checks/image-lambda.nix { inherit checksTools; image = image.tarball; };
    zip-contents = pkgs.callPackage ../checks/zip-contents.nix { inherit checksTools bootstrap; lambdaZip = zip; };
  } // pkgs.lib.optionalAttrs runsHere ({
    startup-time = pkgs.callPackage ../checks/startup-time.nix {
      inherit checksTools bootstrap;
      runs = startupRuns;
    };
  } // pkgs.lib.optionalAttrs (event != null) {
    invocation = pkgs.callPackage ../checks/function-invocation.nix {
      inherit checksTools bootstrap event expected judge;
    };
  });
in
{
  inherit bootstrap zip checks checksTools;
  image = image.stream;
  image-tarball = image.tarball;
}
