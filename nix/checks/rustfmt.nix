# `cargo fmt --check`: needs the manifests and sources only, no dependencies.
{ runCommand, cargo, rustfmt, src }:
runCommand "faas-rustfmt" { nativeBuildInputs = [ cargo rustfmt ]; } ''
  cp -r ${src} source
  chmod -R u+w source
  cd source
  export CARGO_HOME=$TMPDIR/cargo-home
  cargo fmt --all --check
  touch $out
''
