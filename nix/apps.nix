# `nix run .#emulator [-- COMMAND...]`: the Runtime API emulator in front of a function
#   (the static bootstrap by default), invoke endpoint on 127.0.0.1:8080.
# `nix run .#invoke [-- EVENT [URL]]`: one invocation against that endpoint; prints the reply.
{ lib, writeShellApplication, curl, checksTools, bootstrap }:
let
  app = description: drv: {
    type = "app";
    program = lib.getExe drv;
    meta = { inherit description; };
  };

  emulator = writeShellApplication {
    name = "faas-emulator-run";
    runtimeInputs = [ checksTools ];
    text = ''
      if [ "$#" -eq 0 ]; then set -- ${lib.getExe bootstrap}; fi
      exec faas-emulator --api 127.0.0.1:9001 --listen 127.0.0.1:8080 -- "$@"
    '';
  };

  invoke = writeShellApplication {
    name = "faas-invoke";
    runtimeInputs = [ curl ];
    text = ''
      event="''${1:-}"
      if [ -z "$event" ]; then event='{}'; fi
      url="''${2:-http://127.0.0.1:8080}"
      curl --silent --show-error --fail-with-body --data-binary "$event" \
        "$url/2015-03-31/functions/function/invocations"
      echo
    '';
  };
in
{
  default = app "Run the Runtime API emulator in front of the bootstrap" emulator;
  emulator = app "Run the Runtime API emulator in front of a function (default: the bootstrap)" emulator;
  invoke = app "Invoke the function behind the emulator once with an event" invoke;
}
