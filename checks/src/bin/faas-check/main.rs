//! `faas-check`: the image and runtime checks that CI (checks/container-tests.sh) and the
//! Nix flake's checks run.
//!
//! ```text
//! faas-check size <oci-archive | docker-archive | oci-layout-dir | zip>... [--budget BYTES] [--top N]
//! faas-check zip --out FILE BINARY
//! faas-check lambda-image DIR
//! faas-check startup --image IMAGE [--runs N] [--network bridge|host] [--max-median-ms MS]
//! faas-check startup --bootstrap PATH [--runs N] [--max-median-ms MS]
//! faas-check invoke --url http://HOST:PORT [--panic] [--wait SECONDS]
//! faas-check hardening --image IMAGE [--archive PATH] [--only FILE]... [--needle TEXT]...
//! faas-check bench [--invocations N] [--starts N] [--baseline NAME] [--event-file PATH] NAME=COMMAND...
//! faas-check concurrency [--levels 1,8,64] [--invocations N] [--event JSON] [--expect JSON] NAME=COMMAND...
//! ```
//!
//! Each subcommand prints what it measured and exits 0 when every check passed, 1 when
//! one failed, and 2 on a usage error or when it could not measure at all. The container
//! engine is `podman` unless `FAAS_ENGINE` names another Docker-compatible CLI; point
//! `CONTAINERS_CONF` at images/containers.conf on the Debian VMs.

mod args;
mod bench;
mod cold;
mod concurrency;
mod engine;
mod hardening;
mod image;
mod invoke;
mod lambda_image;
mod procfs;
mod size;
mod startup;
mod stats;
mod zip;

use std::process::ExitCode;

/// Each subcommand and its usage (`faas-check COMMAND --help` prints one, `--help` all).
const COMMANDS: &[(&str, &str)] = &[
    (
        "size",
        "\
  size <oci-archive | docker-archive | oci-layout-dir | lambda zip>... [--budget BYTES] [--top N]
      layer count, compressed and uncompressed layer bytes and the largest files, a zip's
      entries; several artifacts are summed up side by side; fails above --budget
      compressed bytes",
    ),
    (
        "zip",
        "\
  zip --out FILE BINARY
      the Lambda deployment package: BINARY as `bootstrap` alone at the root, mode 0755,
      fixed time, no extra fields; the same bytes for the same binary everywhere",
    ),
    (
        "lambda-image",
        "\
  lambda-image DIR
      an image as pushed (`skopeo copy ... dir:DIR` or `oci:DIR`) is what Lambda takes: one
      platform's manifest (OCI or Docker v2 schema 2), config media type, gzip layers, no
      attestation, architecture/os set, entrypoint /bootstrap held by the layers",
    ),
    (
        "startup",
        "\
  startup --image IMAGE [--runs N] [--network bridge|host] [--max-median-ms MS]
      container start to the first answered local-mode invocation (published port)
  startup --bootstrap PATH [--runs N] [--max-median-ms MS]
      process exec to its first `GET /2018-06-01/runtime/invocation/next`",
    ),
    (
        "invoke",
        "\
  invoke --url http://HOST:PORT [--panic] [--wait SECONDS]
      the invocation suite against a live local-mode endpoint",
    ),
    (
        "hardening",
        "\
  hardening --image IMAGE [--archive PATH] [--only FILE]... [--needle TEXT]... [--no-default-needles]
      read-only, no capabilities, no-new-privileges, non-root; no shell or other files
      than --only in the layers; no build-machine path in any layer",
    ),
    (
        "bench",
        "\
  bench [--invocations N] [--starts N] [--baseline NAME] [--event JSON | --event-file PATH]
        [--expect-file PATH] [--emulator PATH] [--json PATH] NAME=COMMAND...
      each function under faas-emulator: init, CPU per invocation (schedstat), REPORT
      duration (median, p99), round trip, peak RSS (and its growth), binary size, with
      ratios against --baseline (default: the first); fails only when a function gives a
      wrong answer (by default it must echo the event), never on a timing",
    ),
    (
        "concurrency",
        "\
  concurrency [--levels 1,8,64] [--invocations N] [--event JSON] [--expect JSON]
              [--workload NAME] [--emulator PATH] [--json PATH] NAME=COMMAND...
      Lambda Managed Instances: each function under faas-emulator --max-concurrency C for
      each level C, as many keep-alive callers: invocations per second, CPU per invocation
      (schedstat), peak RSS; fails only on a wrong answer (by default it must echo the event)",
    ),
];

const EXIT_STATUS: &str =
    "exit status: 0 all checks passed, 1 a check failed, 2 usage or measurement error";

fn usage() -> String {
    let commands: Vec<&str> = COMMANDS.iter().map(|(_, usage)| *usage).collect();
    format!(
        "usage: faas-check <command> [options]\n\ncommands:\n{}\n\n{EXIT_STATUS}",
        commands.join("\n")
    )
}

/// What a subcommand found: every check passed, or some failed.
pub enum Outcome {
    Pass,
    Fail,
}

fn main() -> ExitCode {
    let argv: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(std::ffi::OsString::into_string)
        .collect();
    let argv = match argv {
        Ok(argv) => argv,
        Err(arg) => {
            eprintln!("faas-check: argument {arg:?} is not valid UTF-8");
            return ExitCode::from(2);
        }
    };
    let Some((command, rest)) = argv.split_first() else {
        eprintln!("{}", usage());
        return ExitCode::from(2);
    };
    if let Some((_, usage)) = COMMANDS.iter().find(|(name, _)| name == command) {
        if args::asks_for_help(rest) {
            println!("usage:\n{usage}\n\n{EXIT_STATUS}");
            return ExitCode::SUCCESS;
        }
    }
    let result = match command.as_str() {
        "size" => size::run(rest),
        "startup" => startup::run(rest),
        "invoke" => invoke::run(rest),
        "hardening" => hardening::run(rest),
        "bench" => bench::run(rest),
        "concurrency" => concurrency::run(rest),
        "zip" => zip::run(rest),
        "lambda-image" => lambda_image::run(rest),
        "-h" | "--help" | "help" => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        other => Err(format!(
            "unknown command `{other}` (faas-check --help lists them)"
        )),
    };
    match result {
        Ok(Outcome::Pass) => ExitCode::SUCCESS,
        Ok(Outcome::Fail) => ExitCode::from(1),
        Err(message) => {
            eprintln!("faas-check {command}: {message}");
            ExitCode::from(2)
        }
    }
}
