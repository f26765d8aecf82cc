//! `faas-check bench`: figures, not a verdict. Runs each function under `faas-emulator`
//! and prints what it costs, with ratios against a baseline measured in the same run
//! (timings from another run or another machine are not comparable).
//!
//! ```text
//! faas-check bench [--invocations N] [--starts N] [--baseline NAME]
//!                  [--event JSON | --event-file PATH] [--expect-file PATH]
//!                  [--emulator PATH] [--json PATH] NAME=COMMAND...
//! ```
//!
//! `COMMAND` is split on whitespace (no quoting); use `env VAR=... prog ...` for an
//! environment. For each function:
//!
//! - init: process spawn to its first `GET /next` on a bare loopback listener (as `faas-check
//!   startup --bootstrap`, without the emulator's own latency), and the process's time on CPU
//!   by then; medians over `--starts` fresh starts (default 10);
//! - cold invocation: in the same fresh starts, the event served to that first `GET /next`
//!   and the clock stopped when the response's last byte arrives (init plus the first
//!   invocation, as a user of a cold function waits for it; `cold.rs`), with the process's
//!   CPU by then; medians;
//! - CPU per invocation: the function process's time on CPU over the `--invocations`
//!   sequential invocations (default 1000), divided by their count; read from the first
//!   field of `/proc/PID/task/*/schedstat`, summed over its threads, so it counts the
//!   runtime and the handler and nothing of the emulator or the caller;
//! - duration: the `REPORT` `Duration` (event queued → handed to the function → handler →
//!   response posted), median and p99 over the same invocations, which follow a first,
//!   cold one that is not counted;
//! - round trip: the same invocations as the caller sees them (connect, POST, answer);
//! - memory: the function process's peak RSS (`VmHWM`) after a tenth of the invocations
//!   and after all of them (a flat process does not grow between the two), and the largest
//!   `Max Memory Used` (whole MB, as Lambda reports it);
//! - binary: the file's size when COMMAND is a single file.
//!
//! Every answer must equal (as JSON) `--expect-file`'s document, by default the event itself
//! (an echo); repeated, one of the documents (runtimes that shape the same answer differently,
//! such as `lambda_http`'s extra empty `multiValueHeaders`). `--json PATH` also writes the figures as JSON, for checks/report.sh's chart.
//!
//! The functions are measured interleaved, so that drift of the machine during the run
//! (other load, frequency) hits all of them alike: all are started at once and invoked
//! round-robin, one invocation at a time; then the fresh starts go round-robin too.
//!
//! Exits 1 only when a function gives a wrong answer, never because of a timing; 2 on a
//! usage error.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Outcome;
use crate::args::Args;
use crate::cold;
use crate::procfs::{children, cpu_ns, peak_rss_kib};
use crate::stats::Sample;
use faas_checks::fixture::Function;
use faas_checks::http;
use faas_runtime::protocol::INVOKE_PATH;

/// The event every invocation sends by default; an echo must answer it unchanged (as JSON).
const DEFAULT_EVENT: &str = r#"{"name":"world","n":42,"tags":["a","b"],"nested":{"ok":true}}"#;

const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);
const REPORT_WAIT: Duration = Duration::from_secs(10);

/// Runs `faas-check bench`.
pub fn run(argv: &[String]) -> Result<Outcome, String> {
    let args = Args::parse(
        argv,
        &[],
        &[
            "invocations",
            "starts",
            "baseline",
            "event",
            "event-file",
            "expect-file",
            "emulator",
            "json",
        ],
    )?;
    let invocations: usize = args.parsed("invocations", 1000)?;
    let starts: usize = args.parsed("starts", 10)?;
    if invocations == 0 || starts == 0 {
        return Err("--invocations and --starts must be at least 1".into());
    }
    let event: Vec<u8> = match (args.value("event"), args.value("event-file")) {
        (Some(_), Some(_)) => return Err("give --event or --event-file, not both".into()),
        (Some(event), None) => event.as_bytes().to_vec(),
        (None, Some(path)) => std::fs::read(path).map_err(|e| format!("reading {path}: {e}"))?,
        (None, None) => DEFAULT_EVENT.as_bytes().to_vec(),
    };
    let parse = |what: &str, bytes: &[u8]| -> Result<Value, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("{what} is not JSON: {e}"))
    };
    let event_json = parse("the event", &event)?;
    let expect_files = args.values("expect-file");
    let expected = if expect_files.is_empty() {
        vec![event_json]
    } else {
        expect_files
            .iter()
            .map(|path| {
                let bytes = std::fs::read(path).map_err(|e| format!("reading {path}: {e}"))?;
                parse(path, &bytes)
            })
            .collect::<Result<Vec<_>, _>>()?
    };
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

    let event_text = if event.len() > 200 {
        format!("{} bytes of JSON", event.len())
    } else {
        String::from_utf8_lossy(&event).into_owned()
    };
    println!(
        "{invocations} sequential invocations per function (after one cold invocation, not counted), \
         {starts} fresh starts; event: {event_text}; {} CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let bench = Bench {
        emulator: &emulator,
        event: &event,
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
        match result.and_then(|figures| Summary::of(&figures)) {
            Ok(summary) => results.push((name.as_str(), summary)),
            Err(message) => {
                println!("FAIL {name}: {message}");
                failed = true;
            }
        }
    }
    println!();
    print_table(&results, invocations);
    println!();
    if let Some((_, base)) = results.iter().find(|(name, _)| *name == baseline) {
        println!("ratios, {baseline} / each (below 1.00: {baseline} is faster or smaller):");
        for (name, summary) in results.iter().filter(|(name, _)| *name != baseline) {
            println!("  {baseline} / {name}: {}", ratios(base, summary));
        }
    }
    if let Some(path) = args.value("json") {
        let functions: Vec<Value> = results.iter().map(|(name, s)| s.to_json(name)).collect();
        let document = json!({
            "invocations": invocations,
            "starts": starts,
            "event_bytes": event.len(),
            "baseline": baseline,
            "functions": functions,
        });
        let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("writing {path}: {e}"))?;
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
    init_cpu_us: Vec<f64>,
    cold_ms: Vec<f64>,
    cold_cpu_us: Vec<f64>,
    duration_ms: Vec<f64>,
    round_trip_ms: Vec<f64>,
    /// Nanoseconds on CPU of the function process over the counted invocations.
    cpu_ns: Option<u64>,
    invocations: usize,
    max_memory_mb: Option<u64>,
    /// `VmHWM` after a tenth of the invocations, and after all of them.
    early_rss_kib: Option<u64>,
    peak_rss_kib: Option<u64>,
}

/// A function started for the sequential invocations, with what is read off its process.
struct Running {
    function: Function,
    /// The function process (the emulator's child).
    pid: u32,
    /// Its CPU nanoseconds after the cold invocation.
    cpu_start_ns: u64,
}

struct Bench<'a> {
    emulator: &'a Path,
    event: &'a [u8],
    /// The answers that are right (one of them).
    expected: &'a [Value],
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
        let mut running: Vec<Option<Running>> = Vec::new();
        for (command, result) in commands.iter().zip(&mut results) {
            match self.start_running(command) {
                Ok(r) => running.push(Some(r)),
                Err(message) => {
                    *result = Err(message);
                    running.push(None);
                }
            }
        }
        let early = (self.invocations / 10).max(1);
        for done in 1..=self.invocations {
            for (slot, result) in running.iter_mut().zip(&mut results) {
                let (Some(r), Ok(figures)) = (slot.as_ref(), result.as_mut()) else {
                    continue;
                };
                match self.invoke(&r.function) {
                    Ok(ms) => figures.round_trip_ms.push(ms),
                    Err(message) => {
                        *result = Err(message);
                        *slot = None;
                        continue;
                    }
                }
                if done == early {
                    figures.early_rss_kib = peak_rss_kib(r.pid);
                }
            }
        }
        for (slot, result) in running.iter_mut().zip(&mut results) {
            if let (Some(r), Ok(figures)) = (slot.take(), result.as_mut()) {
                if let Err(message) = self.summarize(&r, figures) {
                    *result = Err(message);
                }
            }
        }
        drop(running);
        for _ in 0..self.starts {
            for (command, result) in commands.iter().zip(&mut results) {
                let Ok(figures) = result.as_mut() else {
                    continue;
                };
                match cold::time_cold(command, self.event).and_then(|cold| {
                    self.check_answer(&cold.body)?;
                    Ok(cold)
                }) {
                    Ok(cold) => {
                        figures.init_ms.push(cold.init.wall_ms);
                        figures.init_cpu_us.push(cold.init.cpu_us);
                        figures.cold_ms.push(cold.first_response.wall_ms);
                        figures.cold_cpu_us.push(cold.first_response.cpu_us);
                    }
                    Err(message) => *result = Err(format!("a fresh start: {message}")),
                }
            }
        }
        results
    }

    /// Starts `command`, answers its cold invocation, and finds its process.
    fn start_running(&self, command: &[String]) -> Result<Running, String> {
        let function = self.start(command)?;
        self.invoke(&function)?;
        let pid = match children(function.pid()).as_slice() {
            [pid] => *pid,
            other => {
                return Err(format!(
                    "the emulator has {} child processes, not one",
                    other.len()
                ));
            }
        };
        let cpu_start_ns =
            cpu_ns(pid).ok_or_else(|| format!("cannot read /proc/{pid}/task/*/schedstat"))?;
        Ok(Running {
            function,
            pid,
            cpu_start_ns,
        })
    }

    /// The CPU time, peak RSS and REPORT figures of the sequential invocations' start.
    fn summarize(&self, r: &Running, figures: &mut Figures) -> Result<(), String> {
        let cpu_end_ns = cpu_ns(r.pid).ok_or("the function process is gone")?;
        figures.cpu_ns = Some(cpu_end_ns.saturating_sub(r.cpu_start_ns));
        figures.invocations = self.invocations;
        figures.peak_rss_kib = peak_rss_kib(r.pid);
        let reports = wait_for_reports(&r.function, self.invocations + 1)?;
        figures.duration_ms = reports[1..].iter().map(|r| r.duration_ms).collect();
        figures.max_memory_mb = reports.iter().filter_map(|r| r.max_memory_mb).max();
        Ok(())
    }

    fn start(&self, command: &[String]) -> Result<Function, String> {
        let command: Vec<&OsStr> = command.iter().map(OsStr::new).collect();
        Function::try_emulated_command(self.emulator, &command, &[], &[])
    }

    /// One invocation that must give the expected answer; its round trip in milliseconds.
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
            && self.check_answer(&answer.body).is_ok();
        if !echoed {
            return Err(format!(
                "did not give the expected answer: status {}, body {}\nlast output:\n{}",
                answer.status,
                answer.body_excerpt(),
                tail(&function.output(), 20)
            ));
        }
        Ok(elapsed)
    }

    /// `Ok` when `body` is the expected answer (compared as JSON).
    fn check_answer(&self, body: &[u8]) -> Result<(), String> {
        match serde_json::from_slice::<Value>(body) {
            Ok(answer) if self.expected.contains(&answer) => Ok(()),
            _ => Err(format!(
                "the answer is not the expected one: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            )),
        }
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
    })
}

/// One function's figures, summarized.
struct Summary {
    binary_bytes: Option<u64>,
    init_ms: f64,
    init_cpu_us: f64,
    cold_ms: f64,
    cold_cpu_us: f64,
    cpu_us: f64,
    duration_ms: Sample,
    round_trip_ms: f64,
    early_rss_kib: Option<u64>,
    peak_rss_kib: Option<u64>,
    max_memory_mb: Option<u64>,
}

impl Summary {
    fn of(f: &Figures) -> Result<Summary, String> {
        let sample = |what: &str, values: &[f64]| {
            Sample::new(values.to_vec()).ok_or_else(|| format!("no {what} measured"))
        };
        Ok(Summary {
            binary_bytes: f.binary_bytes,
            init_ms: sample("init", &f.init_ms)?.median(),
            init_cpu_us: sample("init CPU", &f.init_cpu_us)?.median(),
            cold_ms: sample("cold invocation", &f.cold_ms)?.median(),
            cold_cpu_us: sample("cold invocation CPU", &f.cold_cpu_us)?.median(),
            cpu_us: f.cpu_ns.ok_or("no CPU time measured")? as f64
                / 1e3
                / f.invocations.max(1) as f64,
            duration_ms: sample("duration", &f.duration_ms)?,
            round_trip_ms: sample("round trip", &f.round_trip_ms)?.median(),
            early_rss_kib: f.early_rss_kib,
            peak_rss_kib: f.peak_rss_kib,
            max_memory_mb: f.max_memory_mb,
        })
    }

    fn to_json(&self, name: &str) -> Value {
        json!({
            "name": name,
            "binary_bytes": self.binary_bytes,
            "init_ms": self.init_ms,
            "init_cpu_us": self.init_cpu_us,
            "cold_ms": self.cold_ms,
            "cold_cpu_us": self.cold_cpu_us,
            "cpu_us_per_invocation": self.cpu_us,
            "duration_ms_median": self.duration_ms.median(),
            "duration_ms_p99": self.duration_ms.percentile(99.0),
            "round_trip_ms_median": self.round_trip_ms,
            "early_rss_kib": self.early_rss_kib,
            "peak_rss_kib": self.peak_rss_kib,
            "max_memory_mb": self.max_memory_mb,
        })
    }
}

/// `n` with a thousands separator: 1,185,240.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A figure read off a function's summary.
type Cell<T> = fn(&Summary) -> T;

/// The figures as a markdown table, one column per function.
fn print_table(results: &[(&str, Summary)], invocations: usize) {
    let rows: [(String, Cell<String>); 11] = [
        ("init median (spawn to first GET /next)".into(), |s| {
            format!("{:.2} ms", s.init_ms)
        }),
        ("init CPU median".into(), |s| {
            format!("{:.0} us", s.init_cpu_us)
        }),
        (
            "cold invocation median (spawn to first response)".into(),
            |s| format!("{:.2} ms", s.cold_ms),
        ),
        ("cold invocation CPU median".into(), |s| {
            format!("{:.0} us", s.cold_cpu_us)
        }),
        ("CPU per invocation (function process)".into(), |s| {
            format!("{:.1} us", s.cpu_us)
        }),
        ("REPORT duration median".into(), |s| {
            format!("{:.3} ms", s.duration_ms.median())
        }),
        ("REPORT duration p99".into(), |s| {
            format!("{:.3} ms", s.duration_ms.percentile(99.0))
        }),
        ("round trip median".into(), |s| {
            format!("{:.3} ms", s.round_trip_ms)
        }),
        (
            format!(
                "peak RSS after {} → {} invocations",
                grouped((invocations / 10).max(1) as u64),
                grouped(invocations as u64)
            ),
            |s| match (s.early_rss_kib, s.peak_rss_kib) {
                (Some(a), Some(b)) => format!("{} → {} KiB", grouped(a), grouped(b)),
                (None, Some(b)) => format!("{} KiB", grouped(b)),
                _ => "-".to_string(),
            },
        ),
        ("Max Memory Used (REPORT)".into(), |s| {
            s.max_memory_mb
                .map_or_else(|| "-".to_string(), |m| format!("{m} MB"))
        }),
        ("binary".into(), |s| {
            s.binary_bytes
                .map_or_else(|| "-".to_string(), |b| format!("{} B", grouped(b)))
        }),
    ];
    let names: Vec<&str> = results.iter().map(|(name, _)| *name).collect();
    println!("| | {} |", names.join(" | "));
    println!("|---|{}", "---:|".repeat(names.len()));
    for (label, cell) in &rows {
        let cells: Vec<String> = results.iter().map(|(_, s)| cell(s)).collect();
        println!("| {label} | {} |", cells.join(" | "));
    }
}

/// `ours / theirs` as "0.82x" (three decimals below 0.1: "0.004x"); "n/a" when either is
/// not positive.
fn ratio(ours: f64, theirs: f64) -> String {
    if !(ours > 0.0 && theirs > 0.0) {
        "n/a".to_string()
    } else if ours / theirs < 0.1 {
        format!("{:.3}x", ours / theirs)
    } else {
        format!("{:.2}x", ours / theirs)
    }
}

/// Every figure of `ours` over `theirs`, in one line.
fn ratios(ours: &Summary, theirs: &Summary) -> String {
    let figures: [(&str, Cell<Option<f64>>); 9] = [
        ("init", |s| Some(s.init_ms)),
        ("init CPU", |s| Some(s.init_cpu_us)),
        ("cold invocation", |s| Some(s.cold_ms)),
        ("cold invocation CPU", |s| Some(s.cold_cpu_us)),
        ("CPU per invocation", |s| Some(s.cpu_us)),
        ("duration", |s| Some(s.duration_ms.median())),
        ("round trip", |s| Some(s.round_trip_ms)),
        ("peak RSS", |s| s.peak_rss_kib.map(|k| k as f64)),
        ("binary", |s| s.binary_bytes.map(|b| b as f64)),
    ];
    figures
        .iter()
        .filter_map(|(name, of)| Some(format!("{name} {}", ratio(of(ours)?, of(theirs)?))))
        .collect::<Vec<_>>()
        .join(", ")
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
            })
        );
        let warm = "REPORT RequestId: x\tDuration: 0.14 ms\tBilled Duration: 1 ms\t\
                    Memory Size: 3008 MB\tMax Memory Used: 2 MB\n";
        assert_eq!(
            parse_report(warm),
            Some(Report {
                duration_ms: 0.14,
                max_memory_mb: Some(2),
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
    fn ratios_are_ours_over_theirs() {
        assert_eq!(ratio(1.0, 2.5), "0.40x");
        assert_eq!(ratio(3.0, 2.0), "1.50x");
        assert_eq!(ratio(0.0, 2.0), "n/a");
        assert_eq!(ratio(1.0, 250.0), "0.004x");
        assert_eq!(grouped(1185240), "1,185,240");
        assert_eq!(grouped(932), "932");
        assert_eq!(grouped(100000), "100,000");
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
    }
}
