//! `faas-check concurrency`: Lambda Managed Instances figures, not a verdict. Each function
//! runs under `faas-emulator --max-concurrency C` for each level C, and C callers (each on a
//! keep-alive connection of its own) send `--invocations` events between them as fast as they
//! are answered. Per function and level:
//!
//! - throughput: invocations answered per second of wall time (the emulator and the callers
//!   share the machine with the function, so this is the whole loop's rate);
//! - CPU per invocation: the function process's time on CPU over the invocations (the first
//!   field of `/proc/PID/task/*/schedstat`, summed over its threads), divided by their count:
//!   the function's own cost, whatever the emulator spends;
//! - peak RSS (`VmHWM`) of the function process after them.
//!
//! ```text
//! faas-check concurrency [--levels 1,8,64] [--invocations N] [--event JSON]
//!                        [--expect JSON] [--workload NAME] [--emulator PATH] [--json PATH]
//!                        NAME=COMMAND...
//! ```
//!
//! Every answer must equal `--expect` (as JSON; by default the event itself, an echo). The
//! functions are measured in turn at each level (level by level, so drift hits all alike).
//! Exits 1 only when a function gives a wrong answer, never because of a timing.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Outcome;
use crate::args::Args;
use crate::procfs::{children, cpu_ns, peak_rss_kib};
use faas_checks::fixture::Function;
use faas_checks::http::Session;
use faas_runtime::protocol::INVOKE_PATH;

const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);
/// The event by default (`faas-check bench`'s): an echo must answer it unchanged (as JSON).
const DEFAULT_EVENT: &str = r#"{"name":"world","n":42,"tags":["a","b"],"nested":{"ok":true}}"#;

/// What one function did at one level.
struct Row {
    name: String,
    level: usize,
    per_second: f64,
    cpu_us: f64,
    peak_rss_kib: Option<u64>,
}

/// Runs `faas-check concurrency`.
pub fn run(argv: &[String]) -> Result<Outcome, String> {
    let args = Args::parse(
        argv,
        &[],
        &[
            "levels",
            "invocations",
            "event",
            "expect",
            "workload",
            "emulator",
            "json",
        ],
    )?;
    let invocations: usize = args.parsed("invocations", 2000)?;
    let mut levels = Vec::new();
    for level in args.values("levels") {
        match level.parse::<usize>() {
            Ok(n) if (1..=256).contains(&n) => levels.push(n),
            _ => return Err(format!("--levels: {level} is not a level from 1 to 256")),
        }
    }
    if levels.is_empty() {
        levels = vec![1, 8, 64];
    }
    let event = args.value("event").unwrap_or(DEFAULT_EVENT).to_owned();
    let parse = |what: &str, text: &str| -> Result<Value, String> {
        serde_json::from_str(text).map_err(|e| format!("{what} is not JSON: {e}"))
    };
    let expected = match args.value("expect") {
        Some(text) => parse("--expect", text)?,
        None => parse("--event", &event)?,
    };
    let functions = args
        .positional
        .iter()
        .map(|spec| {
            spec.split_once('=')
                .filter(|(name, command)| !name.is_empty() && !command.trim().is_empty())
                .map(|(name, command)| {
                    let words: Vec<String> =
                        command.split_whitespace().map(str::to_string).collect();
                    (name.to_owned(), words)
                })
                .ok_or_else(|| format!("`{spec}`: give a function as NAME=COMMAND"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if functions.is_empty() || invocations == 0 {
        return Err("name at least one function as NAME=COMMAND, and --invocations above 0".into());
    }
    let emulator = match args.value("emulator") {
        Some(path) => PathBuf::from(path),
        None => std::env::current_exe()
            .map_err(|e| format!("finding faas-check itself: {e}"))?
            .with_file_name("faas-emulator"),
    };
    println!(
        "{invocations} invocations of {event} per function and level, from as many callers as the level, each on a keep-alive connection"
    );
    println!();
    println!("| function | concurrency | invocations/s | CPU µs per invocation | peak RSS (KiB) |");
    println!("|---|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    let mut wrong = false;
    for &level in &levels {
        for (name, command) in &functions {
            match measure(&emulator, command, level, invocations, &event, &expected) {
                Ok((per_second, cpu_us, peak_rss_kib)) => {
                    let rss = peak_rss_kib.map_or("?".into(), |k| k.to_string());
                    println!("| {name} | {level} | {per_second:.0} | {cpu_us:.1} | {rss} |");
                    rows.push(Row {
                        name: name.clone(),
                        level,
                        per_second,
                        cpu_us,
                        peak_rss_kib,
                    });
                }
                Err(message) => {
                    println!("| {name} | {level} | failed | | |");
                    eprintln!("faas-check concurrency: {name} at {level}: {message}");
                    wrong = true;
                }
            }
        }
    }
    if let Some(path) = args.value("json") {
        let rows: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "concurrency": r.level,
                    "invocations_per_second": r.per_second,
                    "cpu_us_per_invocation": r.cpu_us,
                    "peak_rss_kib": r.peak_rss_kib,
                })
            })
            .collect();
        let doc = json!({
            "workload": args.value("workload").unwrap_or("echo"),
            "invocations": invocations,
            "event": event,
            "rows": rows,
        });
        std::fs::write(path, format!("{doc:#}\n")).map_err(|e| format!("writing {path}: {e}"))?;
    }
    Ok(if wrong { Outcome::Fail } else { Outcome::Pass })
}

/// One function at one level: (invocations per second, CPU µs per invocation, peak RSS).
fn measure(
    emulator: &std::path::Path,
    command: &[String],
    level: usize,
    invocations: usize,
    event: &str,
    expected: &Value,
) -> Result<(f64, f64, Option<u64>), String> {
    let words: Vec<&OsStr> = command.iter().map(OsStr::new).collect();
    let level_text = level.to_string();
    let function =
        Function::try_emulated_command(emulator, &words, &[], &["--max-concurrency", &level_text])?;
    let pid = match children(function.pid()).as_slice() {
        [pid] => *pid,
        other => {
            return Err(format!(
                "the emulator has {} children, not one",
                other.len()
            ));
        }
    };
    // Warm: one round of `level` invocations (the workers' first events, the connections).
    run_callers(&function, level, level, event, expected)?;
    let cpu_start = cpu_ns(pid).ok_or("cannot read the function's schedstat")?;
    let start = Instant::now();
    run_callers(&function, level, invocations, event, expected)?;
    let wall = start.elapsed().as_secs_f64();
    let cpu_end = cpu_ns(pid).ok_or("the function process is gone")?;
    let cpu_us = cpu_end.saturating_sub(cpu_start) as f64 / 1e3 / invocations as f64;
    Ok((invocations as f64 / wall, cpu_us, peak_rss_kib(pid)))
}

/// `callers` threads, each on its own keep-alive connection, send `total` invocations between
/// them; every answer must be `expected`.
fn run_callers(
    function: &Function,
    callers: usize,
    total: usize,
    event: &str,
    expected: &Value,
) -> Result<(), String> {
    let sent = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..callers)
            .map(|_| {
                s.spawn(|| -> Result<(), String> {
                    let mut session = Session::new(&function.invoke_addr)?;
                    while sent.fetch_add(1, Ordering::SeqCst) < total {
                        let r = session.post(INVOKE_PATH, event.as_bytes(), INVOKE_TIMEOUT)?;
                        let answer: Option<Value> = serde_json::from_slice(&r.body).ok();
                        if r.status != 200 || answer.as_ref() != Some(expected) {
                            return Err(format!(
                                "a wrong answer: {} {}",
                                r.status,
                                r.body_excerpt()
                            ));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().unwrap_or_else(|_| Err("a caller panicked".into())))
    })
}
