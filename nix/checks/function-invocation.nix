# A user's own invocation: the function behind faas-emulator on loopback in the sandbox, the
# event file POSTed to the invoke endpoint, and the answer either compared with the expected
# file (byte for byte, trailing newlines of either ignored) or handed to the judging command
# on stdin (the event file's path as $1; exit 0 accepts). A function error fails the check.
# Our arguments have no defaults: the caller passes each (`expected` or `judge` may be null,
# not both).
{ lib, runCommand, checksTools, curl, bootstrap, event, expected, judge }:
assert expected != null || judge != null
  || throw "faas-runtime: the invocation check needs `expected` (a file) or `judge` (a command)";
runCommand "faas-function-invocation"
{
  nativeBuildInputs = [ checksTools curl ];
  inherit event;
  expected = if expected == null then "" else expected;
  judge = if judge == null then "" else judge;
  function = lib.getExe bootstrap;
} ''
  faas-emulator --api 127.0.0.1:9001 --listen 127.0.0.1:8080 -- "$function" &
  emulator=$!
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:8080/ && break; sleep 0.1; done
  status=0
  curl -sS -D headers --data-binary @"$event" -o answer \
    http://127.0.0.1:8080/2015-03-31/functions/function/invocations || status=1
  kill "$emulator" || true
  wait "$emulator" || true
  echo "answer: $(cat answer)"
  if grep -qi '^x-amz-function-error:' headers; then
    echo "FAIL the function answered with an error"; status=1
  elif [ -n "$expected" ]; then
    if [ "$(cat answer)" != "$(cat "$expected")" ]; then
      echo "FAIL expected: $(cat "$expected")"; status=1
    fi
  else
    sh -c "$judge" judge "$event" < answer || { echo "FAIL the judging command rejected the answer"; status=1; }
  fi
  [ "$status" -eq 0 ]
  cp answer "$out"
''
