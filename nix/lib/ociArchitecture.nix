# The OCI/Docker name of a platform's CPU ("amd64", "arm64"): what an image built for a
# bootstrap of that platform declares, and what `podman run --platform linux/...` matches.
#
#   import ./nix/lib/ociArchitecture.nix pkgs.pkgsStatic.stdenv.hostPlatform   # => "amd64" on x86_64
platform:
{ x86_64 = "amd64"; aarch64 = "arm64"; }.${platform.parsed.cpu.name}
  or (throw "faas-runtime: no OCI architecture for ${platform.parsed.cpu.name}")
