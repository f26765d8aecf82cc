# The invocation suite CI runs: the emulator with the static bootstrap behind it, then
# `faas-check invoke` against the emulator's invoke endpoint, all on loopback in the sandbox.
{ lib, runCommand, checksTools, bootstrap }:
runCommand "faas-invocation-tests" { nativeBuildInputs = [ checksTools ]; } ''
  faas-emulator --api 127.0.0.1:9001 --listen 127.0.0.1:8080 -- ${lib.getExe bootstrap} &
  emulator=$!

  # Wait (10 s at most) for the invoke port.
  for _ in $(seq 100); do
    if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then break; fi
    sleep 0.1
  done

  status=0
  faas-check invoke --url http://127.0.0.1:8080 > report.txt || status=$?
  kill "$emulator" || true
  cat report.txt
  [ "$status" -eq 0 ]
  cp report.txt $out
''
