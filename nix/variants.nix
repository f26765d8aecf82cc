# The Nix counterparts of images/scratch.Dockerfile and images/alpine.Dockerfile, built around
# the same bootstrap so that their sizes compare side by side with the Dockerfiles' images.
# busybox should be static (pkgsStatic.busybox): like Alpine's, it needs no other store path.
{ callPackage, bootstrap, busybox, revision, architecture }:
let
  common = {
    inherit bootstrap revision architecture;
    source = "https://github.com/faas-runtime/faas-runtime";
  };
in
{
  scratch = callPackage ./image.nix (common // {
    name = "faas-runtime";
    title = "faas-runtime (nix, scratch-equivalent)";
    description = "AWS Lambda Runtime API client: a static musl bootstrap and a passwd entry, built by Nix";
    extraContents = [ ];
  });

  alpine = callPackage ./image.nix (common // {
    name = "faas-runtime-alpine-equivalent";
    title = "faas-runtime (nix, alpine-equivalent)";
    description = "AWS Lambda Runtime API client: a static musl bootstrap with busybox for debugging, built by Nix";
    extraContents = [ busybox ];
  });
}
