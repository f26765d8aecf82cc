//! `faas-check bench`: figures, not a verdict. Runs each function under `faas-emulator`
//! and prints what it costs, with ratios against a baseline measured in the same run
//! (timings from another run or another machine are not comparable).
//!
//! ```text
//! faas-check bench [--invocations N] [--starts N] [--baseline NAME] [--event JSON]
//!                  [--emulator PATH] NAME=COMMAND...
//! ```
//!
//! `COMMAND` is split on whitespace (no quoting); use `env VAR=... prog ...` for an
//! environment. For each function:
//!
//! - init: the `Init Duration` of the emulator's first `REPORT` line (process spawn to its
//!   first `GET /next`), median over `--starts` fresh starts (default 10);
//! - overhead: the `REPORT` `Duration` (event queued → handed to the function → handler →
//!   response posted), median and p99 over `--invocations` sequential invocations of a
//!   small JSON event (default 1000) on one start, after a first, cold one that is not
//!   counted;
//! - round trip: the same invocations as the caller sees them (connect, POST, answer);
//! - memory: the largest `Max Memory Used` (whole MB, as Lambda reports it) and, finer, the
//!   function process's peak RSS (`VmHWM`, KiB) after the invocations;
//! - binary: the file's size when COMMAND is a single file.
//!
//! The functions are measured interleaved, so that drift of the machine during the run
//! (other load, frequency) hits all of them alike: all are started at once and invoked
//! round-robin, one invocation at a time; then the fresh starts go round-robin too.
//!
//! Exits 1 only when a function does not answer with its event (an echo is expected), never
//! because of a timing; 2 on a usage error.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Outcome;
use crate::args::Args;
use crate::startup::Stats;
use faas_checks::fixture::Function;
use faas_checks::http;
use faas_runtime::protocol::INVOKE_PATH;

/// The event every invocation sends; an echo must answer it unchanged (as JSON).
const DEFAULT_EVENT: &str = r#"{"name":"world","n":42,"tags":["a","b"],"nested":{"ok":true}}"#;

/// The figures of the old design note (../shared/spec/container-optimization-techniques.md)
/// that the baseline is also compared with: binary bytes, init ms, per-invocation ms.
const NOTE_BINARY_BYTES: f64 = 1.9e6;
const NOTE_INIT_MS: f64 = 15.0;
const NOTE_OVERHEAD_MS: f64 = 10.0;

const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);
const REPORT_WAIT: Duration = Duration::from_secs(10);

/// Runs `faas-check bench`.
pub fn run(argv: &[String]) -> Result<Outcome, String> {
    let args = Args::parse(
        argv,
        &[],
        &["invocations", "starts", "baseline", "event", "emulator"],
    )?;
    let invocations: usize = args.parsed("invocations", 1000)?;
    let starts: usize = args.parsed("starts", 10)?;
    if invocations == 0 || starts == 0 {
        return Err("--invocations and --starts must be at least 1".into());
    }
    let event = args.value("event").unwrap_or(DEFAULT_EVENT);
    let expected: Value =
        serde_json::from_str(event).map_err(|e| format!("--event is not JSON: {e}"))?;
    let functions = args
        .positional
        .iter()
        .map(|spec| parse_function(spec))
        .collect::<Result<Vec<_>, _>>()?;
    if functions.is_empty() {
        return Err("name at least one function as NAME=COMMAND".into());
    }
    let baseline = args.value("baseline").unwrap_or(&functions[0].0);
    if !functions.iter().any(|(name, _)| name == baseline) {
        return Err(format!("--baseline {baseline} is not one of the functions"));
    }
    let emulator = match args.value("emulator") {
        Some(path) => PathBuf::from(path),
        None => sibling("faas-emulator")?,
    };
    if !emulator.is_file() {
        return Err(format!("{} is missing", emulator.display()));
    }

    println!(
        "{invocations} sequential invocations per function (after one cold invocation, not counted), \
         {starts} fresh starts; event {event}; {} CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let bench = Bench {
        emulator: &emulator,
        event: event.as_bytes(),
        expected: &expected,
        invocations,
        starts,
    };
    for (name, command) in &functions {
        eprintln!("bench: {name}: {}", command.join(" "));
    }
    let commands: Vec<Vec<String>> = functions.iter().map(|(_, c)| c.clone()).collect();
    let mut results = Vec::new();
    let mut failed = false;
    for ((name, _), result) in functions.iter().zip(bench.measure_all(&commands)) {
        match result {
            Ok(figures) => results.push((name.as_str(), figures)),
            Err(message) => {
                println!("FAIL {name}: {message}");
                failed = true;
            }
        }
    }
    println!();
    print_table(&results);
    println!();
    if let Some((_, base)) = results.iter().find(|(name, _)| *name == baseline) {
        for (name, figures) in results.iter().filter(|(name, _)| *name != baseline) {
            println!("{baseline} vs {name}: {}", ratios(base, figures));
        }
        println!(
            "{baseline} vs the design note (1.9 MB binary, ~15 ms init, ~10 ms per invocation): {}",
            note_ratios(base)
        );
    }
    Ok(if failed { Outcome::Fail } else { Outcome::Pass })
}

/// `NAME=COMMAND` → (name, words of the command).
fn parse_function(spec: &str) -> Result<(String, Vec<String>), String> {
    let (name, command) = spec
        .split_once('=')
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| format!("`{spec}`: give a function as NAME=COMMAND"))?;
    let words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
    if words.is_empty() {
        return Err(format!("`{spec}`: the command is empty"));
    }
    Ok((name.to_string(), words))
}

/// A binary next to this one (`faas-emulator` is built with `faas-check`).
fn sibling(name: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("finding faas-check itself: {e}"))?;
    Ok(exe.with_file_name(name))
}

/// What was measured for one function.
#[derive(Debug, Default)]
struct Figures {
    binary_bytes: Option<u64>,
    init_ms: Vec<f64>,
    overhead_ms: Vec<f64>,
    round_trip_ms: Vec<f64>,
    max_memory_mb: Option<u64>,
    peak_rss_kib: Option<u64>,
}

struct Bench<'a> {
    emulator: &'a Path,
    event: &'a [u8],
    expected: &'a Value,
    invocations: usize,
    starts: usize,
}

impl Bench<'_> {
    /// Measures every command, interleaved so that a machine getting slower or faster during
    /// the run affects all of them alike: all functions up at once with the invocations
    /// round-robin, then the fresh starts round-robin. A function that fails drops out.
    fn measure_all(&self, commands: &[Vec<String>]) -> Vec<Result<Figures, String>> {
        let mut results: Vec<Result<Figures, String>> = commands
            .iter()
            .map(|command| {
                Ok(Figures {
                    binary_bytes: match command.as_slice() {
                        [single] => std::fs::metadata(single).ok().map(|m| m.len()),
                        _ => None,
                    },
                    ..Figures::default()
                })
            })
            .collect();
        // One start each for the sequential invocations (also the first of the starts),
        // and a first, cold invocation that is not counted.
        let mut running: Vec<Option<Function>> = Vec::new();
        for (command, result) in commands.iter().zip(&mut results) {
            let function = self.start(command).and_then(|function| {
                self.invoke(&function)?;
                Ok(function)
            });
            match function {
                Ok(function) => running.push(Some(function)),
                Err(message) => {
                    *result = Err(message);
                    running.push(None);
                }
            }
        }
        for _ in 0..self.invocations {
            for (slot, result) in running.iter_mut().zip(&mut results) {
                let (Some(function), Ok(figures)) = (slot.as_ref(), result.as_mut()) else {
                    continue;
                };
                match self.invoke(function) {
                    Ok(ms) => figures.round_trip_ms.push(ms),
                    Err(message) => {
                        *result = Err(message);
                        *slot = None;
                    }
                }
            }
        }
        for (slot, result) in running.iter_mut().zip(&mut results) {
            if let (Some(function), Ok(figures)) = (slot.take(), result.as_mut()) {
                if let Err(message) = self.summarize(&function, figures) {
                    *result = Err(message);
                }
            }
        }
        drop(running);
        for _ in 1..self.starts {
            for (command, result) in commands.iter().zip(&mut results) {
                let Ok(figures) = result.as_mut() else {
                    continue;
                };
                match self.init_ms(command) {
                    Ok(ms) => figures.init_ms.push(ms),
                    Err(message) => *result = Err(message),
                }
            }
        }
        results
    }

    /// The REPORT figures and peak RSS of the sequential invocations' start.
    fn summarize(&self, function: &Function, figures: &mut Figures) -> Result<(), String> {
        let reports = wait_for_reports(function, self.invocations + 1)?;
        let init = reports[0].init_ms;
        figures
            .init_ms
            .push(init.ok_or("the first REPORT has no Init Duration")?);
        figures.overhead_ms = reports[1..].iter().map(|r| r.duration_ms).collect();
        figures.max_memory_mb = reports.iter().filter_map(|r| r.max_memory_mb).max();
        figures.peak_rss_kib = children(function.pid())
            .into_iter()
            .filter_map(peak_rss_kib)
            .max();
        Ok(())
    }

    /// One fresh start and its first invocation: the Init Duration.
    fn init_ms(&self, command: &[String]) -> Result<f64, String> {
        let function = self.start(command)?;
        self.invoke(&function)?;
        let report = wait_for_reports(&function, 1)?;
        report[0]
            .init_ms
            .ok_or_else(|| "a first REPORT has no Init Duration".to_string())
    }

    fn start(&self, command: &[String]) -> Result<Function, String> {
        let command: Vec<&OsStr> = command.iter().map(OsStr::new).collect();
        Function::try_emulated_command(self.emulator, &command, &[], &[])
    }

    /// One invocation that must echo the event; its round trip in milliseconds.
    fn invoke(&self, function: &Function) -> Result<f64, String> {
        let started = Instant::now();
        let answer = http::request(
            &function.invoke_addr,
            "POST",
            INVOKE_PATH,
            &[],
            self.event,
            INVOKE_TIMEOUT,
        )
        .map_err(|e| {
            format!(
                "no answer (timeout {} s): {e}\nlast output:\n{}",
                INVOKE_TIMEOUT.as_secs(),
                tail(&function.output(), 20)
            )
        })?;
        let elapsed = started.elapsed().as_secs_f64() * 1e3;
        let echoed = answer.status == 200
            && answer.header("x-amz-function-error").is_none()
            && answer.json().as_ref() == Some(self.expected);
        if !echoed {
            return Err(format!(
                "did not echo the event: status {}, body {}\nlast output:\n{}",
                answer.status,
                answer.body_excerpt(),
                tail(&function.output(), 20)
            ));
        }
        Ok(elapsed)
    }
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The first `count` REPORT lines of `function`, waiting for stdout to catch up.
fn wait_for_reports(function: &Function, count: usize) -> Result<Vec<Report>, String> {
    let deadline = Instant::now() + REPORT_WAIT;
    loop {
        let reports: Vec<Report> = function.output().lines().filter_map(parse_report).collect();
        if reports.len() >= count {
            return Ok(reports.into_iter().take(count).collect());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{} REPORT lines after {count} invocations",
                reports.len()
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The figures of one `REPORT` line.
#[derive(Debug, PartialEq)]
struct Report {
    duration_ms: f64,
    max_memory_mb: Option<u64>,
    init_ms: Option<f64>,
}

/// Parses `REPORT RequestId: ID\tDuration: X ms\t...\tMax Memory Used: N MB[\tInit Duration: Y ms]`
/// (tab-separated fields, as Lambda prints them); `None` for any other line.
fn parse_report(line: &str) -> Option<Report> {
    let fields = line.trim().strip_prefix("REPORT ")?;
    let field = |key: &str, unit: &str| {
        fields
            .split('\t')
            .filter_map(|f| f.trim().strip_prefix(key)?.strip_prefix(": "))
            .find_map(|v| v.strip_suffix(unit).map(str::trim))
    };
    Some(Report {
        duration_ms: field("Duration", " ms")?.parse().ok()?,
        max_memory_mb: field("Max Memory Used", " MB").and_then(|v| v.parse().ok()),
        init_ms: field("Init Duration", " ms").and_then(|v| v.parse().ok()),
    })
}

/// The pids whose parent is `pid` (the function process under the emulator).
fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| parent_pid(&stat))
                == Some(pid)
        })
        .collect()
}

/// The parent pid from a `/proc/PID/stat` line (`pid (comm) state ppid ...`; comm may hold
/// spaces and parentheses).
fn parent_pid(stat: &str) -> Option<u32> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// `VmHWM` of `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    vm_hwm_kib(&status)
}

fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The `p`-th percentile (0 < p <= 100) of a non-empty sample, by nearest rank.
fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = (p / 100.0 * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

fn median(samples: &[f64]) -> f64 {
    Stats::of(samples).median
}

fn print_table(results: &[(&str, Figures)]) {
    println!(
        "| function | binary | init median | overhead median | overhead p99 | round trip median | Max Memory Used | peak RSS |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, f) in results {
        println!(
            "| {name} | {} | {:.2} ms | {:.3} ms | {:.3} ms | {:.3} ms | {} | {} |",
            f.binary_bytes
                .map_or_else(|| "-".to_string(), |b| format!("{b} B")),
            median(&f.init_ms),
            median(&f.overhead_ms),
            percentile(&f.overhead_ms, 99.0),
            median(&f.round_trip_ms),
            f.max_memory_mb
                .map_or_else(|| "-".to_string(), |m| format!("{m} MB")),
            f.peak_rss_kib
                .map_or_else(|| "-".to_string(), |k| format!("{k} KiB")),
        );
    }
}

/// `ours` against `theirs` where less is better: "2.50x faster" or "1.20x slower".
fn ratio(ours: f64, theirs: f64, better: &str, worse: &str) -> String {
    if !(ours > 0.0 && theirs > 0.0) {
        "n/a".to_string()
    } else if ours <= theirs {
        format!("{:.2}x {better}", theirs / ours)
    } else {
        format!("{:.2}x {worse}", ours / theirs)
    }
}

/// A named figure read off a function's measurements.
type Figure<T> = (&'static str, fn(&Figures) -> T);

/// Every figure of `ours` against `theirs`, in one line.
fn ratios(ours: &Figures, theirs: &Figures) -> String {
    let timings: [Figure<f64>; 4] = [
        ("init", |f| median(&f.init_ms)),
        ("overhead", |f| median(&f.overhead_ms)),
        ("overhead p99", |f| percentile(&f.overhead_ms, 99.0)),
        ("round trip", |f| median(&f.round_trip_ms)),
    ];
    let sizes: [Figure<Option<u64>>; 2] = [
        ("peak RSS", |f| f.peak_rss_kib),
        ("binary", |f| f.binary_bytes),
    ];
    let mut parts: Vec<String> = timings
        .iter()
        .map(|(name, of)| format!("{name} {}", ratio(of(ours), of(theirs), "faster", "slower")))
        .collect();
    for (name, of) in sizes {
        if let (Some(a), Some(b)) = (of(ours), of(theirs)) {
            parts.push(format!(
                "{name} {}",
                ratio(a as f64, b as f64, "smaller", "larger")
            ));
        }
    }
    parts.join(", ")
}

/// The baseline against the design note's figures.
fn note_ratios(ours: &Figures) -> String {
    let mut parts = Vec::new();
    if let Some(bytes) = ours.binary_bytes {
        let r = ratio(bytes as f64, NOTE_BINARY_BYTES, "smaller", "larger");
        parts.push(format!("binary {r}"));
    }
    let init = ratio(median(&ours.init_ms), NOTE_INIT_MS, "faster", "slower");
    parts.push(format!("init {init}"));
    let overhead = ratio(
        median(&ours.overhead_ms),
        NOTE_OVERHEAD_MS,
        "faster",
        "slower",
    );
    parts.push(format!("overhead {overhead}"));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_are_parsed() {
        let cold = "REPORT RequestId: 717fe594-5de7\tDuration: 0.96 ms\tBilled Duration: 1 ms\t\
                    Memory Size: 3008 MB\tMax Memory Used: 17 MB\tInit Duration: 168.02 ms";
        assert_eq!(
            parse_report(cold),
            Some(Report {
                duration_ms: 0.96,
                max_memory_mb: Some(17),
                init_ms: Some(168.02),
            })
        );
        let warm = "REPORT RequestId: x\tDuration: 0.14 ms\tBilled Duration: 1 ms\t\
                    Memory Size: 3008 MB\tMax Memory Used: 2 MB\n";
        assert_eq!(
            parse_report(warm),
            Some(Report {
                duration_ms: 0.14,
                max_memory_mb: Some(2),
                init_ms: None,
            })
        );
        // The emulator prints `-` when it could not read the memory figure.
        let unknown = "REPORT RequestId: x\tDuration: 3.00 ms\tMax Memory Used: - MB";
        assert_eq!(parse_report(unknown).unwrap().max_memory_mb, None);
    }

    #[test]
    fn other_lines_are_not_reports() {
        assert_eq!(parse_report("START RequestId: x Version: $LATEST"), None);
        assert_eq!(parse_report("END RequestId: x"), None);
        assert_eq!(
            parse_report("REPORT RequestId: x\tBilled Duration: 1 ms"),
            None
        );
        assert_eq!(parse_report("a log line: REPORT Duration: 1 ms"), None);
    }

    #[test]
    fn percentiles_and_medians() {
        let samples: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(percentile(&samples, 99.0), 99.0);
        assert_eq!(percentile(&samples, 100.0), 100.0);
        assert_eq!(percentile(&samples, 50.0), 50.0);
        assert_eq!(median(&samples), 50.5);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 99.0), 3.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    }

    #[test]
    fn ratios_say_which_way() {
        assert_eq!(ratio(1.0, 2.5, "faster", "slower"), "2.50x faster");
        assert_eq!(ratio(3.0, 2.0, "smaller", "larger"), "1.50x larger");
        assert_eq!(ratio(2.0, 2.0, "faster", "slower"), "1.00x faster");
        assert_eq!(ratio(0.0, 2.0, "faster", "slower"), "n/a");
    }

    #[test]
    fn functions_and_proc_files_are_parsed() {
        assert_eq!(
            parse_function("py=env A=b python3 -m awslambdaric echo.handler").unwrap(),
            (
                "py".to_string(),
                [
                    "env",
                    "A=b",
                    "python3",
                    "-m",
                    "awslambdaric",
                    "echo.handler"
                ]
                .map(String::from)
                .to_vec()
            )
        );
        assert!(parse_function("=x").is_err());
        assert!(parse_function("name=").is_err());
        assert!(parse_function("no-equals").is_err());
        assert_eq!(parent_pid("42 (a (b) c) S 7 42 42 0"), Some(7));
        assert_eq!(
            vm_hwm_kib("VmPeak:\t 9 kB\nVmHWM:\t    1536 kB\n"),
            Some(1536)
        );
    }
}
