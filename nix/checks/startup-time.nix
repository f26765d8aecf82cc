# `faas-check startup`: exec of the static bootstrap to its first GET /next, against a
# loopback listener inside the build sandbox. Prints min/median/max; fails only on a gross
# regression (the sandbox's timings are noisy, so the program keeps a wide margin).
{ lib, runCommand, checksTools, bootstrap, runs }:
runCommand "faas-startup-time" { nativeBuildInputs = [ checksTools ]; } ''
  faas-check startup --bootstrap ${lib.getExe bootstrap} --runs ${toString runs} | tee $out
''
