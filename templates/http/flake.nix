{
  description = "my-function: an axum app as an AWS Lambda function on faas-runtime";

  # nixpkgs follows faas-runtime's pin: the toolchain its checks were run with.
  inputs = {
    faas-runtime.url = "github:faas-runtime/faas-runtime";
    nixpkgs.follows = "faas-runtime/nixpkgs";
  };

  outputs = { self, nixpkgs, faas-runtime }:
    let
      forAllSystems = nixpkgs.lib.genAttrs [ "x86_64-linux" "aarch64-linux" ];
      kit = system: args: faas-runtime.lib.mkFunction ({
        pkgs = nixpkgs.legacyPackages.${system};
        pname = "my-function";
        version = "0.1.0";
        src = ./.;
        cargoLock.lockFile = ./Cargo.lock;
        revision = self.rev or "dirty";
        imageBudget = 1048576;
        event = ./events/hello.json;
        expected = ./events/hello.expected.json;
      } // args);
      native = system: kit system { };
      # arm64 (Graviton): cross-built on x86_64, native on aarch64.
      arm64 = system: kit system { aarch64 = true; };
    in
    {
      packages = forAllSystems (system: {
        default = (native system).zip;
        bootstrap = (native system).bootstrap;
        zip = (native system).zip;
        image = (native system).image;
        image-tarball = (native system).image-tarball;
        zip-aarch64 = (arm64 system).zip;
        image-aarch64 = (arm64 system).image;
        image-aarch64-tarball = (arm64 system).image-tarball;
      });

      checks = forAllSystems (system: (native system).checks // {
        image-size-aarch64 = (arm64 system).checks.image-size;
        image-lambda-aarch64 = (arm64 system).checks.image-lambda;
        zip-contents-aarch64 = (arm64 system).checks.zip-contents;
      });
    };
}
