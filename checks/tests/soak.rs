//! The soak (issue 9): many invocations of local mode, half over one keep-alive connection and
//! half on a new connection each, with the resident memory and open file descriptors of both
//! processes (local mode and its function) flat between the 10% mark and the end.
//!
//! `SOAK_INVOCATIONS` sets the count: `make soak` runs 100,000; `make test` a shorter 5,000.

use std::time::{Duration, Instant};

use faas_checks::fixture::{Function, example};
use faas_checks::http::{self, Session};

const INVOKE: &str = "/2015-03-31/functions/function/invocations";
const T: Duration = Duration::from_secs(30);

/// What is measured of one process.
#[derive(Debug, Clone, Copy)]
struct Footprint {
    rss_kib: u64,
    fds: usize,
}

fn footprint(pid: u32) -> Footprint {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("/proc fd")
        .count();
    Footprint { rss_kib, fds }
}

/// The function process of a local-mode process (its only child).
fn child_of(pid: u32) -> u32 {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .ok()
        .and_then(|c| c.split_whitespace().next().and_then(|p| p.parse().ok()))
        .expect("local mode runs its function as a child")
}

#[test]
fn rss_and_file_descriptors_stay_flat_over_a_soak() {
    let total: usize = std::env::var("SOAK_INVOCATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    assert!(total >= 100, "SOAK_INVOCATIONS must be at least 100");
    let f = Function::local(&example("echo"), &[]);
    let mut session = Session::new(&f.invoke_addr).unwrap();
    let started = Instant::now();
    let mut marks = Vec::new();
    for i in 0..total {
        let event = format!("{{\"i\":{i}}}");
        let r = if i % 2 == 0 {
            session.post(INVOKE, event.as_bytes(), T)
        } else {
            http::post(&f.invoke_addr, INVOKE, event.as_bytes(), T)
        }
        .unwrap_or_else(|e| panic!("invocation {i}: {e}\n{}", f.output()));
        assert_eq!(r.status, 200, "invocation {i}: {}", r.body_excerpt());
        assert_eq!(r.body, event.as_bytes(), "invocation {i}");
        if i + 1 == total / 10 || i + 1 == total {
            // Let closed connections be reaped before counting.
            std::thread::sleep(Duration::from_millis(50));
            let function = child_of(f.pid());
            marks.push((footprint(f.pid()), footprint(function)));
        }
    }
    let elapsed = started.elapsed();
    let [(emulator_10, function_10), (emulator_end, function_end)] = marks[..] else {
        panic!("two marks")
    };
    println!(
        "soak: {total} invocations ({} keep-alive on {} connection(s), {} on new connections) in {:.1} s; \
         local mode RSS {} -> {} KiB, fds {} -> {}; function RSS {} -> {} KiB, fds {} -> {} (10% mark -> end)",
        total.div_ceil(2),
        session.connections,
        total / 2,
        elapsed.as_secs_f64(),
        emulator_10.rss_kib,
        emulator_end.rss_kib,
        emulator_10.fds,
        emulator_end.fds,
        function_10.rss_kib,
        function_end.rss_kib,
        function_10.fds,
        function_end.fds,
    );
    // Flat: a leak of one allocation or one fd per invocation would show as megabytes and
    // thousands; allocator noise stays within a couple of MiB.
    for (what, at_10, at_end) in [
        ("local mode", emulator_10, emulator_end),
        ("the function", function_10, function_end),
    ] {
        assert!(
            at_end.rss_kib <= at_10.rss_kib + 2048 + at_10.rss_kib / 10,
            "{what}'s RSS grew from {} to {} KiB",
            at_10.rss_kib,
            at_end.rss_kib
        );
        assert!(
            at_end.fds <= at_10.fds + 2,
            "{what}'s open fds grew from {} to {}",
            at_10.fds,
            at_end.fds
        );
    }
}
