# The invocation suite CI runs: the emulator with the static bootstrap behind it, then
# `faas-check invoke` against the emulator's invoke endpoint, all on loopback in the sandbox.
{ lib, runCommand, checksTools, bootstrap }:
runCommand "faas-invocation-tests" { nativeBuildInputs = [ checksTools ]; } ''
  faas-emulator --api 127.0.0.1:9001 --listen 127.0.0.1:8080 -- ${lib.getExe bootstrap} &
  emulator=$!

  status=0
  # --wait: faas-check itself waits (10 s at most) for the endpoint to answer.
  faas-check invoke --url http://127.0.0.1:8080 --wait 10 > report.txt || status=$?
  kill "$emulator" || true
  cat report.txt
  [ "$status" -eq 0 ]
  cp report.txt $out
''
