# The Lambda deployment package (`provided.al2023`) of a static bootstrap: `bootstrap` alone
# at the root of a .zip, mode 0755, fixed time, no extra fields. Written by `faas-check zip`
# (checks/src/bin/faas-check/zip.rs), the program images/build-zip.sh runs, so the same
# binary gives the same bytes from Nix and from the host build. The output is the .zip file
# itself: `aws lambda update-function-code --zip-file fileb://result`.
# Our arguments have no defaults: the caller passes each.
{ lib, runCommand, checksTools, bootstrap, name }:
runCommand name
{
  nativeBuildInputs = [ checksTools ];
  binary = lib.getExe bootstrap;
  # What the tests check (nix/tests/attributes.py): the binary packed and the program.
  passthru = { inherit bootstrap; zipCommand = "faas-check zip --out"; };
} ''
  # faas-check writes next to its destination first: build here, then copy to $out.
  faas-check zip --out bootstrap.zip "$binary"
  cp bootstrap.zip "$out"
''
