//! `faas-check startup`: cold-start measurements for a report, failing only on a gross
//! regression.
//!
//! - `--image IMAGE`: from `podman run` to the first answered local-mode invocation
//!   through the published port (`--network bridge`, the default, publishes
//!   127.0.0.1:PORT:8080; `--network host` sets FAAS_LISTEN=127.0.0.1:PORT instead).
//!   Budget 1000 ms: the engine dominates (podman+runc ~300 ms on host networking,
//!   ~570 ms on the bridge on the 2-core CI VMs), the runtime adds ~1 ms.
//! - `--bootstrap PATH`: from spawning the process, with AWS_LAMBDA_RUNTIME_API pointing
//!   at a loopback listener bound here, to the first request line
//!   `GET /2018-06-01/runtime/invocation/next`. Budget 10 ms.
//!
//! Prints min / median / max over `--runs` (default 10) and fails only when the median
//! exceeds `--max-median-ms`, by default ten times the budget.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use faas_checks::fake_api::TimedApi;

use crate::Outcome;
use crate::args::Args;
use crate::engine::{self, Container};
use crate::procfs;
use crate::stats::Sample;

/// Expected upper bound of a container start, in milliseconds (see the module docs).
pub const IMAGE_BUDGET_MS: f64 = 1000.0;
/// Expected upper bound of a process start to its first /next, in milliseconds.
pub const BOOTSTRAP_BUDGET_MS: f64 = 10.0;

/// Runs `faas-check startup`.
pub fn run(argv: &[String]) -> Result<Outcome, String> {
    let args = Args::parse(
        argv,
        &[],
        &["image", "bootstrap", "runs", "network", "max-median-ms"],
    )?;
    let runs: usize = args.parsed("runs", 10)?;
    if runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let (what, budget, samples) = match (args.value("image"), args.value("bootstrap")) {
        (Some(image), None) => {
            let network = args.value("network").unwrap_or("bridge");
            if network != "bridge" && network != "host" {
                return Err(format!("--network {network}: use bridge or host"));
            }
            let samples = sample(runs, || time_container(image, network))?;
            let what = format!("container start to first answer ({image}, {network} network)");
            (what, IMAGE_BUDGET_MS, samples)
        }
        (None, Some(path)) => {
            let command = [path.to_string()];
            let samples = sample(runs, || Ok(time_start(&command)?.wall_ms))?;
            let what = format!("exec to first GET /next ({path})");
            (what, BOOTSTRAP_BUDGET_MS, samples)
        }
        _ => return Err("give exactly one of --image IMAGE or --bootstrap PATH".into()),
    };
    let max_median: f64 = args.parsed("max-median-ms", budget * 10.0)?;
    let stats = Sample::new(samples).ok_or("no runs")?;
    let median = stats.median();
    println!("{what}: {runs} runs");
    println!(
        "min {:.2} ms  median {median:.2} ms  max {:.2} ms  (budget {budget} ms, fail above {max_median} ms)",
        stats.min(),
        stats.max()
    );
    if median <= max_median {
        println!("PASS median {median:.2} ms <= {max_median} ms");
        Ok(Outcome::Pass)
    } else {
        println!("FAIL median {median:.2} ms > {max_median} ms");
        Ok(Outcome::Fail)
    }
}

fn sample(runs: usize, mut once: impl FnMut() -> Result<f64, String>) -> Result<Vec<f64>, String> {
    (0..runs).map(|_| once()).collect()
}

/// One container start, in milliseconds.
fn time_container(image: &str, network: &str) -> Result<f64, String> {
    let port = engine::free_port()?;
    let publish = format!("127.0.0.1:{port}:8080");
    let listen = format!("FAAS_LISTEN=127.0.0.1:{port}");
    let args: Vec<&str> = if network == "host" {
        vec!["--network", "host", "-e", &listen]
    } else {
        vec!["--network", "bridge", "-p", &publish]
    };
    let start = Instant::now();
    let container = Container::run(image, &args)?;
    let addr = format!("127.0.0.1:{port}");
    let answer = container.wait_answer(&addr, br#"{"name":"startup"}"#, Duration::from_secs(30))?;
    let elapsed = start.elapsed();
    if answer.status != 200 {
        return Err(format!("the first answer was status {}", answer.status));
    }
    Ok(elapsed.as_secs_f64() * 1000.0)
}

/// What one process start to its first `GET /next` cost.
pub struct Start {
    /// From spawning the process to its first request line arriving, in milliseconds.
    pub wall_ms: f64,
    /// The process's time on CPU by then (schedstat, all threads), in microseconds.
    pub cpu_us: f64,
}

/// Starts `command` (program and arguments) with `AWS_LAMBDA_RUNTIME_API` pointing at a
/// loopback listener bound here (`fake_api::TimedApi`), and measures it up to its first
/// `GET /2018-06-01/runtime/invocation/next`; the process is killed after.
pub fn time_start(command: &[String]) -> Result<Start, String> {
    let mut api = TimedApi::bind()?;
    let mut child = api.spawn(command)?;
    let result = api
        .accept_first(&mut child)
        .and_then(|stream| first_request_line(&stream));
    let elapsed = api.started.elapsed();
    let cpu_ns = procfs::cpu_ns(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let line = result?;
    if !line.starts_with(&format!("GET {} ", faas_runtime::protocol::NEXT_PATH)) {
        return Err(format!("the first request was `{line}`, not GET /next"));
    }
    Ok(Start {
        wall_ms: elapsed.as_secs_f64() * 1000.0,
        cpu_us: cpu_ns.ok_or("cannot read the process's schedstat")? as f64 / 1000.0,
    })
}

/// The request line of the first request on `stream`.
fn first_request_line(stream: &TcpStream) -> Result<String, String> {
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .map_err(|e| format!("reading the request line: {e}"))?;
    Ok(line.trim_end().to_string())
}
