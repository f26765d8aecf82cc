# Size budgets of the scratch-equivalent image and of its binary, relative and absolute.
#
# - binary: the bootstrap against a `strip -s` copy of itself; more than `maxPercentAbove`
#   above it means symbols or debug info stayed in (nixpkgs' stdenv strips debug info only
#   unless told otherwise). It must also be a non-PIE executable (ELF type EXEC): the
#   static-pie that a lost `relocation-model=static` gives is about 6% larger.
# - image: `faas-check size` of buildLayeredImage's image against the Dockerfile-equivalent
#   of images/scratch.Dockerfile built here from the same binary: a docker archive whose one
#   layer holds /bootstrap alone (mode 0555, owner 0, mtime 0), measured by the same program
#   the same way (layers gzip'd at the default level, as a registry push does). buildah
#   cannot run in the build sandbox; this is the image it would write, minus its config.
# - `budget`: the absolute ceiling in compressed bytes, as in CI.
{ lib, runCommand, checksTools, binutils, image, bootstrap, budget, maxPercentAbove }:
runCommand "faas-image-size"
{
  nativeBuildInputs = [ checksTools binutils ];
  binary = lib.getExe bootstrap;
  inherit image budget maxPercentAbove;
} ''
  compressed() { sed -n 's/^compressed: \([0-9]*\) B.*/\1/p'; }
  within() { [ $(( $1 * 100 )) -le $(( $2 * (100 + maxPercentAbove) )) ]; }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
  status=0

  # 1) The binary.
  strip -s -o stripped "$binary"
  size=$(stat -c %s "$binary")
  stripped=$(stat -c %s stripped)
  echo "binary: $size B; strip -s copy: $stripped B; ratio $(ratio "$size" "$stripped")" | tee -a report
  if ! within "$size" "$stripped"; then
    echo "FAIL binary is more than $maxPercentAbove% above its fully stripped copy" | tee -a report
    status=1
  fi
  elf_type=$(od -An -tu2 -j16 -N2 "$binary" | tr -d ' ')
  if [ "$elf_type" != 2 ]; then
    echo "FAIL binary is ELF type $elf_type, not 2 (EXEC): static-pie instead of non-PIE" | tee -a report
    status=1
  fi

  # 2) The image, with the absolute budget.
  gzip -dc "$image" > image.tar
  faas-check size image.tar --budget "$budget" > image.txt || status=1
  cat image.txt >> report

  # 3) The Dockerfile-equivalent image of the same binary.
  mkdir ref
  install -m 0555 "$binary" ref/bootstrap
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C ref -cf layer.tar bootstrap
  echo '[{"Config":"config.json","RepoTags":[],"Layers":["layer.tar"]}]' > manifest.json
  echo '{}' > config.json
  tar -cf reference.tar manifest.json config.json layer.tar
  faas-check size reference.tar > reference.txt
  ours=$(compressed < image.txt)
  theirs=$(compressed < reference.txt)
  echo "image: $ours B compressed; Dockerfile-equivalent: $theirs B; ratio $(ratio "$ours" "$theirs")" | tee -a report
  if ! within "$ours" "$theirs"; then
    echo "FAIL image is more than $maxPercentAbove% above the Dockerfile-equivalent" | tee -a report
    status=1
  fi

  cat report
  [ "$status" -eq 0 ]
  cp report $out
''
