//! `faas-check`: the image and runtime checks that CI (checks/container-tests.sh) and the
//! Nix flake's checks run.
//!
//! ```text
//! faas-check size <oci-archive | docker-archive | oci-layout-dir> [--budget BYTES] [--top N]
//! faas-check startup --image IMAGE [--runs N] [--network bridge|host] [--max-median-ms MS]
//! faas-check startup --bootstrap PATH [--runs N] [--max-median-ms MS]
//! faas-check invoke --url http://HOST:PORT [--panic] [--wait SECONDS]
//! faas-check hardening --image IMAGE [--archive PATH] [--only FILE]... [--needle TEXT]...
//! faas-check bench [--invocations N] [--starts N] [--baseline NAME] NAME=COMMAND...
//! ```
//!
//! Each subcommand prints what it measured and exits 0 when every check passed, 1 when
//! one failed, and 2 on a usage error or when it could not measure at all. The container
//! engine is `podman` unless `FAAS_ENGINE` names another Docker-compatible CLI; point
//! `CONTAINERS_CONF` at images/containers.conf on the Debian VMs.

mod args;
mod bench;
mod engine;
mod hardening;
mod image;
mod invoke;
mod size;
mod startup;

use std::process::ExitCode;

const USAGE: &str = "\
usage: faas-check <command> [options]

commands:
  size <oci-archive | docker-archive | oci-layout-dir> [--budget BYTES] [--top N]
      layer count, compressed and uncompressed layer bytes and the largest files;
      fails above --budget compressed bytes
  startup --image IMAGE [--runs N] [--network bridge|host] [--max-median-ms MS]
      container start to the first answered local-mode invocation (published port)
  startup --bootstrap PATH [--runs N] [--max-median-ms MS]
      process exec to its first `GET /2018-06-01/runtime/invocation/next`
  invoke --url http://HOST:PORT [--panic] [--wait SECONDS]
      the invocation suite against a live local-mode endpoint
  hardening --image IMAGE [--archive PATH] [--only FILE]... [--needle TEXT]... [--no-default-needles]
      read-only, no capabilities, no-new-privileges, non-root; no shell or other files
      than --only in the layers; no build-machine path in any layer
  bench [--invocations N] [--starts N] [--baseline NAME] [--event JSON] [--emulator PATH] NAME=COMMAND...
      each echo function under faas-emulator: init, per-invocation overhead (median, p99),
      round trip, memory and binary size, with ratios against --baseline (default: the
      first); fails only when a function does not echo the event, never on a timing

exit status: 0 all checks passed, 1 a check failed, 2 usage or measurement error";

/// What a subcommand found: every check passed, or some failed.
pub enum Outcome {
    Pass,
    Fail,
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = argv.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "size" => size::run(rest),
        "startup" => startup::run(rest),
        "invoke" => invoke::run(rest),
        "hardening" => hardening::run(rest),
        "bench" => bench::run(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown command `{other}`")),
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
