# `faas-check size` on the scratch-equivalent image: prints the layer sizes, fails above the
# budget (compressed bytes). The image is buildLayeredImage's .tar.gz, unpacked to the
# docker-archive tar that faas-check reads.
{ runCommand, checksTools, image, budget ? 1048576 }:
runCommand "faas-image-size" { nativeBuildInputs = [ checksTools ]; } ''
  gzip -dc ${image} > image.tar
  faas-check size image.tar --budget ${toString budget} | tee $out
''
