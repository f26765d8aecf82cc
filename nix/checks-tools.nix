# faas-emulator and faas-check, built for the machine that runs the checks (not static):
# the flake checks, the apps and the devShell call them.
{ rustPlatform, version, src, cargoLock }:
rustPlatform.buildRustPackage {
  pname = "faas-checks";
  inherit version src cargoLock;

  cargoBuildFlags = [ "--package" "faas-checks" ];
  # The tests run in the cargo-test check.
  doCheck = false;

  meta = {
    description = "The Runtime API emulator and the check programs of faas-runtime";
    mainProgram = "faas-check";
  };
}
