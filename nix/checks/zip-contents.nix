# The Lambda zip as a reader other than ours sees it (Info-ZIP's unzip, the `unzip` Lambda's
# own tooling resembles): exactly one entry, `bootstrap`, `-rwxr-xr-x`, and its bytes are the
# bootstrap's. `faas-check size` prints its size.
{ lib, runCommand, checksTools, unzip, lambdaZip, bootstrap }:
runCommand "faas-zip-contents"
{
  nativeBuildInputs = [ checksTools unzip ];
  zip = lambdaZip;
  binary = lib.getExe bootstrap;
} ''
  status=0
  names=$(unzip -Z1 "$zip")
  if [ "$names" != bootstrap ]; then
    echo "FAIL the zip holds [$names], not bootstrap alone"; status=1
  fi
  mode=$(unzip -Z "$zip" | sed -n 's/^\(-[-rwx]*\) .* bootstrap$/\1/p')
  if [ "$mode" != -rwxr-xr-x ]; then
    echo "FAIL bootstrap's mode is '$mode', not -rwxr-xr-x"; status=1
  fi
  if ! unzip -p "$zip" bootstrap | cmp - "$binary"; then
    echo "FAIL the unzipped bootstrap differs from the binary"; status=1
  fi
  faas-check size "$zip" | tee report
  [ "$status" -eq 0 ]
  cp report "$out"
''
