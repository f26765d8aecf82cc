//! Conformance: AWS's Python runtime interface client (`awslambdaric`) under our emulator.
//! Its responses and its error format must come through exactly as Lambda would deliver them.
//! `python3 -m pip install awslambdaric` is part of the test setup (see the Makefile).
//!
//! And AWS's Rust runtime's `run_concurrent` (Lambda Managed Instances) under
//! `faas-emulator --max-concurrency 8`: the peer in checks/peers/lambda-runtime is its own
//! cargo project, so a plain `cargo test` does not build it; that test is `#[ignore]`d and
//! `make rust-tests` builds the peer, then runs it with `--ignored`.
//!
//! And AWS's extension client (crate `lambda-extension`, the same peer project) as an
//! external extension of a function under our emulator: it registers, gets every INVOKE and
//! the SHUTDOWN, and its telemetry subscription gets the platform and function records.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faas_checks::files;
use faas_checks::fixture::{Function, profile_dir, together};
use serde_json::{Value, json};

fn python_function() -> Function {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let check = std::process::Command::new("python3")
        .args(["-c", "import awslambdaric"])
        .output();
    assert!(
        check.is_ok_and(|o| o.status.success()),
        "awslambdaric is not installed: run `python3 -m pip install awslambdaric` (make setup does)"
    );
    let script = format!(
        "cd {} && exec python3 -m awslambdaric handler.handler",
        dir.display()
    );
    Function::emulated_command(
        &["sh".as_ref(), "-c".as_ref(), script.as_ref()],
        &[],
        &["--timeout", "30"],
    )
}

#[test]
fn awslambdaric_answers_invocations_under_the_emulator() {
    let f = python_function();
    let r = f.invoke(r#"{"order": 7, "text": "ünïcødé"}"#.as_bytes());
    assert_eq!(r.status, 200, "{}\n{}", r.body_excerpt(), f.output());
    assert_eq!(r.header("x-amz-function-error"), None);
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["echo"], json!({"order": 7, "text": "ünïcødé"}));
    assert_eq!(body["requestId"].as_str().unwrap().len(), 36);
    assert!(body["arn"].as_str().unwrap().starts_with("arn:aws:lambda:"));
    // The emulator's output is read by another thread: wait for the line, do not race it.
    let start = format!("START RequestId: {}", body["requestId"].as_str().unwrap());
    assert!(
        f.wait_for_output(&start, std::time::Duration::from_secs(5))
            .is_some(),
        "{}",
        f.output()
    );
}

#[test]
fn awslambdaric_errors_arrive_in_lambdas_format() {
    let f = python_function();
    let r = f.invoke(br#"{"fail": true}"#);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-amz-function-error"), Some("Unhandled"));
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["errorType"], "ValueError", "{body}");
    assert_eq!(body["errorMessage"], "python says no");
    let trace = body["stackTrace"].as_array().expect("a stackTrace list");
    assert!(
        trace
            .iter()
            .any(|frame| frame.as_str().unwrap_or_default().contains("handler.py")),
        "{body}"
    );
    // A malformed event is the Python runtime's own Runtime.UnmarshalError, as ours.
    let r = f.invoke(b"{not json");
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["errorType"], "Runtime.UnmarshalError", "{body}");
    // And the client keeps serving.
    assert_eq!(f.invoke(br#"{"ok": 1}"#).status, 200);
}

/// checks/peers/lambda-runtime's binary `name`, as `make rust-tests` builds it.
fn peer(name: &str) -> PathBuf {
    let target = profile_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let peer = target.join("peers/debug").join(name);
    assert!(
        peer.exists(),
        "{} is missing: build it with `cargo build --locked --manifest-path \
         checks/peers/lambda-runtime/Cargo.toml --bins --target-dir target/peers` \
         (make rust-tests does)",
        peer.display()
    );
    peer
}

fn run_concurrent_peer() -> PathBuf {
    peer("concurrent")
}

#[test]
#[ignore = "needs the lambda_runtime peer, its own cargo project: make rust-tests builds it and runs this with --ignored"]
fn lambda_runtime_run_concurrent_serves_n_at_once_under_max_concurrency() {
    let n = 8;
    let f = Function::emulated(&run_concurrent_peer(), &[], &["--max-concurrency", "8"]);
    let pause = Duration::from_millis(500);
    // N invocations that sleep overlap: run_concurrent started N workers, each polling /next
    // on its own connection, because the emulator passed AWS_LAMBDA_MAX_CONCURRENCY.
    let start = Instant::now();
    let ids = together(n, |i| {
        own_answer(&f, &json!({ "ms": pause.as_millis() as u64, "caller": i }))
    });
    let elapsed = start.elapsed();
    assert!(elapsed >= pause, "{elapsed:?}");
    assert!(
        elapsed < pause * 5,
        "8 invocations of 500 ms took {elapsed:?}: not concurrent\n{}",
        f.output()
    );
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), n);
    // Many more from more callers than slots: each gets its own answer.
    let more: Vec<String> = together(16, |c| {
        (0..25)
            .map(|i| own_answer(&f, &json!({ "ms": i % 3, "caller": c, "call": i })))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    assert_eq!(more.iter().collect::<HashSet<_>>().len(), 400);
}

/// Invokes the peer with `event`; asserts the answer is this event's; returns its request id.
fn own_answer(f: &Function, event: &Value) -> String {
    let r = f.invoke(event.to_string().as_bytes());
    assert_eq!(r.status, 200, "{}\n{}", r.body_excerpt(), f.output());
    let body = r.expect_json();
    assert_eq!(&body["echo"], event, "another caller's answer: {body}");
    let id = body["requestId"].as_str().expect("a request id").to_owned();
    assert_eq!(id.len(), 36, "{body}");
    id
}

/// Waits up to 20 s for `path` to hold a line for which `done` holds; its lines either way.
fn lines_of(path: &Path, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let lines = |text: &str| text.lines().map(str::to_owned).collect::<Vec<_>>();
    files::wait_until(path, |text| done(&lines(text)));
    lines(&files::read(path))
}

#[test]
#[ignore = "needs the lambda_runtime peer, its own cargo project: make rust-tests builds it and runs this with --ignored"]
fn aws_lambda_extension_client_gets_events_and_telemetry_under_the_emulator() {
    let dir = files::scratch("ext");
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).unwrap();
    std::os::unix::fs::symlink(peer("extension"), extensions.join("aws-client")).unwrap();
    let log = dir.join("extension.log");
    // A port of its own for the telemetry listener (the crate's default is 9003).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
        .to_string();
    let mut f = Function::emulated(
        &faas_checks::fixture::example("log_lines"),
        &[
            ("EXTENSION_LOG", log.to_str().unwrap()),
            ("TELEMETRY_PORT", &port),
        ],
        &["--extensions-dir", extensions.to_str().unwrap()],
    );
    for n in 0..2 {
        let r = f.invoke(format!(r#"{{"n":{n}}}"#).as_bytes());
        assert_eq!(r.status, 200, "{}\n{}", r.body_excerpt(), f.output());
    }
    let output = f.output();
    let ids: Vec<String> = output
        .lines()
        .filter_map(|line| line.split("START RequestId: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 2, "{output}");
    let reported = |lines: &[String]| {
        ids.iter()
            .all(|id| lines.contains(&format!("platform.report {id}")))
    };
    let lines = lines_of(&log, reported);
    assert!(reported(&lines), "{lines:#?}\n{}", f.output());
    for id in &ids {
        assert!(lines.contains(&format!("INVOKE {id}")), "{lines:#?}");
        let at = |what: &str| lines.iter().position(|l| *l == format!("{what} {id}"));
        let start = at("platform.start").expect("platform.start");
        let report = at("platform.report").expect("platform.report");
        assert!(start < report, "{lines:#?}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("platform.runtimeDone {id} Success"))),
            "{lines:#?}"
        );
    }
    assert!(
        lines.iter().any(|l| l.starts_with("function ")),
        "the function's log lines arrive as function records: {lines:#?}"
    );
    f.signal(libc::SIGTERM);
    assert!(f.wait(Duration::from_secs(10)).is_some(), "{}", f.output());
    let lines = lines_of(&log, |l| l.iter().any(|l| l.starts_with("SHUTDOWN")));
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("SHUTDOWN")).count(),
        1,
        "{lines:#?}\n{}",
        f.output()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
