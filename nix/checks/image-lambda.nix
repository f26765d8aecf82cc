# The image as Lambda takes it (`faas-check lambda-image`, the program checks/container-tests.sh
# runs on the Dockerfile images): pushed by skopeo, as a registry receives it, in both manifest
# formats Lambda accepts (Docker v2 schema 2 and OCI), each must have one platform's manifest,
# a config media type Lambda knows, gzip layers, no attestation, architecture/os set, and the
# entrypoint /bootstrap held by the layers. Offline: docker-archive to a directory.
{ runCommand, checksTools, skopeo, image }:
runCommand "faas-image-lambda"
{
  nativeBuildInputs = [ checksTools skopeo ];
  inherit image;
} ''
  gzip -dc "$image" > image.tar
  status=0
  skopeo --insecure-policy copy --quiet --format v2s2 --dest-compress docker-archive:image.tar dir:v2s2
  faas-check lambda-image v2s2 | tee -a report || status=1
  skopeo --insecure-policy copy --quiet --format oci --dest-compress --dest-compress-format gzip \
    docker-archive:image.tar oci:oci:latest
  faas-check lambda-image oci | tee -a report || status=1
  [ "$status" -eq 0 ]
  cp report "$out"
''
