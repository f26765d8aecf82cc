# One OCI image around a static bootstrap, with the contract of images/*.Dockerfile:
# ENTRYPOINT ["/bootstrap"], USER 65532:65532, EXPOSE 8080/tcp, FAAS_LISTEN, the OCI labels.
# Returns both forms of the same image:
#   stream:  dockerTools.streamLayeredImage, a script that writes the image to stdout
#            (`./result | podman load`), nothing large in the store;
#   tarball: dockerTools.buildLayeredImage, the same image as a .tar.gz in the store.
# Layers: the bootstrap's store path (shared by every variant built from it), the
# passwd/group entries, the extra contents, and a top layer holding /bootstrap, a symlink to
# the binary. No CA certificates: the runtime only speaks plain HTTP to the Runtime API.
# `architecture` is the bootstrap's ("amd64", "arm64"): a cross-built bootstrap goes into an
# image assembled by the build machine's dockerTools. Our arguments have no defaults: the
# caller passes each (callPackage would fill a defaulted one from a package of that name).
{ lib
, dockerTools
, writeTextDir
, bootstrap
, name
, title
, description
, revision
, source
, extraContents
, architecture
}:
let
  # The Unix epoch, as `buildah build --timestamp 0` and the Dockerfiles' CREATED give:
  # the image does not change with the time it was built.
  created = "1970-01-01T00:00:00Z";

  args = {
    inherit name created architecture;
    contents = [
      (writeTextDir "etc/passwd" "function:x:65532:65532:function:/nonexistent:/sbin/nologin\n")
      (writeTextDir "etc/group" "function:x:65532:\n")
    ] ++ extraContents;
    extraCommands = ''
      ln -s ${lib.getExe bootstrap} bootstrap
    '';
    config = {
      Entrypoint = [ "/bootstrap" ];
      User = "65532:65532";
      ExposedPorts = { "8080/tcp" = { }; };
      Env = [ "FAAS_LISTEN=0.0.0.0:8080" ];
      Labels = {
        "org.opencontainers.image.source" = source;
        "org.opencontainers.image.revision" = revision;
        "org.opencontainers.image.created" = created;
        "org.opencontainers.image.title" = title;
        "org.opencontainers.image.description" = description;
      };
    };
  };
in
{
  stream = dockerTools.streamLayeredImage args;
  tarball = dockerTools.buildLayeredImage args;
}
