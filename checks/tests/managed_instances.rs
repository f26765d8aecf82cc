//! Lambda Managed Instances under `faas-emulator --max-concurrency N`: up to N invocations in
//! flight at once, each dispatched to its own `/next` and answered by its own request id, with
//! its own deadline, and the hostile-client guarantees of the one-at-a-time emulator per slot.
//!
//! The function's side is played by this test: the emulator runs a placeholder process that
//! never polls (a shell that writes its pid and sleeps), and the test's threads are its N
//! workers on the Runtime API, one connection per call. That needs no concurrent runtime and
//! lets a test misbehave on purpose (answer an id twice, crash with N in flight). Then our own
//! runtime (the `sleep` example, its concurrent driver) under the emulator and in local mode;
//! the `lambda_runtime` peer's `run_concurrent` runs under the same mode in conformance.rs.
//! Last, external extensions registered for INVOKE under the same mode: every concurrent
//! invocation's INVOKE reaches them, and each invocation's post-invoke phase is its own.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use faas_checks::files::{read, scratch, wait_until};
use faas_checks::fixture::{Function, example, together};
use faas_checks::http::{self, Response};
use serde_json::{Value, json};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const T: Duration = Duration::from_secs(60);

/// The placeholder function under `faas-emulator --max-concurrency n` (plus `args`), and the
/// file its pid is in (rewritten by each process the emulator starts).
fn managed(name: &str, n: usize, args: &[&str]) -> (Function, PathBuf) {
    let pid_file =
        std::env::temp_dir().join(format!("faas-managed-{}-{name}.pid", std::process::id()));
    let _ = std::fs::remove_file(&pid_file);
    let script = format!("echo $$ > {}; exec sleep 3600", pid_file.display());
    let n = n.to_string();
    let mut all = vec!["--max-concurrency", n.as_str()];
    all.extend_from_slice(args);
    let f = Function::emulated_command(&["sh".as_ref(), "-c".as_ref(), script.as_ref()], &[], &all);
    (f, pid_file)
}

/// The pid the placeholder process wrote, once it has.
fn pid_in(file: &PathBuf) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            return pid;
        }
        assert!(start.elapsed() < T, "{} never written", file.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// An event a worker took from `/next`.
#[derive(Debug)]
struct Taken {
    id: String,
    body: Vec<u8>,
}

/// One `/next` on its own connection: the event, or the refusal.
fn next(api: &str) -> Result<Taken, Response> {
    let r = http::request(api, "GET", NEXT, &[], b"", T)
        .unwrap_or_else(|e| panic!("/next failed: {e}"));
    if r.status != 200 {
        return Err(r);
    }
    let id = r
        .header("lambda-runtime-aws-request-id")
        .expect("/next names the request id")
        .to_owned();
    assert!(
        r.header("lambda-runtime-deadline-ms").is_some(),
        "{:?}",
        r.headers
    );
    Ok(Taken { id, body: r.body })
}

/// `/next` until an event comes, through a process replacement (410) in between.
fn next_event(api: &str) -> Taken {
    let start = Instant::now();
    loop {
        match next(api) {
            Ok(taken) => return taken,
            Err(r) if r.status == 410 && start.elapsed() < T => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(r) => panic!("/next refused: {} {}", r.status, r.body_excerpt()),
        }
    }
}

/// POSTs `body` to `/invocation/{id}/{segment}`; returns the status.
fn post(api: &str, id: &str, segment: &str, body: &[u8]) -> u16 {
    let path = format!("/2018-06-01/runtime/invocation/{id}/{segment}");
    http::request(api, "POST", &path, &[], body, T)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .status
}

/// The answer a worker gives: the event and the id it came with.
fn answer_for(taken: &Taken) -> Vec<u8> {
    let event: Value = serde_json::from_slice(&taken.body).expect("events are JSON here");
    json!({"id": taken.id, "echo": event})
        .to_string()
        .into_bytes()
}

/// The worker's loop body: take an event, wait `pause`, answer it.
fn serve_one(api: &str, pause: Duration) {
    let taken = next_event(api);
    std::thread::sleep(pause);
    assert_eq!(post(api, &taken.id, "response", &answer_for(&taken)), 202);
}

/// Asserts `r` is the worker's answer to `event`; returns the request id it names.
fn own_answer(r: &Response, event: &Value) -> String {
    assert_eq!(r.status, 200, "{}", r.body_excerpt());
    let body = r.expect_json();
    assert_eq!(&body["echo"], event, "another caller's answer: {body}");
    body["id"].as_str().expect("an id").to_owned()
}

#[test]
fn n_invocations_that_sleep_overlap() {
    let n = 8;
    let pause = Duration::from_millis(500);
    let (f, _) = managed("overlap", n, &[]);
    let start = Instant::now();
    let ids: Vec<String> = std::thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| serve_one(&f.api_addr, pause));
        }
        together(n, |i| {
            let event = json!({ "caller": i });
            own_answer(&f.invoke(event.to_string().as_bytes()), &event)
        })
    });
    let elapsed = start.elapsed();
    // One at a time would take 8 pauses (4 s); together, about one. The bound is generous.
    assert!(elapsed >= pause, "{elapsed:?}");
    assert!(
        elapsed < pause * 5,
        "8 invocations of 500 ms took {elapsed:?}: not concurrent\n{}",
        f.output()
    );
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), n, "{ids:?}");
    for id in &ids {
        assert!(
            f.wait_for_output(&format!("REPORT RequestId: {id}"), T)
                .is_some(),
            "{}",
            f.output()
        );
    }
}

#[test]
fn thousands_of_invocations_each_get_their_own_answer() {
    let (n, total, callers) = (8, 2_000, 16);
    let (f, _) = managed("crosstalk", n, &[]);
    let served = AtomicUsize::new(0);
    let ids: Vec<String> = std::thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| {
                while served.fetch_add(1, Ordering::SeqCst) < total {
                    serve_one(&f.api_addr, Duration::ZERO);
                }
            });
        }
        let answered = together(callers, |c| {
            (0..total / callers)
                .map(|i| {
                    let event = json!({ "caller": c, "call": i });
                    own_answer(&f.invoke(event.to_string().as_bytes()), &event)
                })
                .collect::<Vec<_>>()
        });
        answered.into_iter().flatten().collect()
    });
    assert_eq!(ids.len(), total);
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), total, "a request id answered two callers");
    let output = f.output();
    let reports = output.matches("REPORT RequestId: ").count();
    assert_eq!(reports, total, "one REPORT line per invocation");
}

#[test]
fn only_n_polls_wait_at_once() {
    let (f, _) = managed("polls", 2, &[]);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| s.spawn(|| serve_one(&f.api_addr, Duration::ZERO)))
            .collect();
        // Both wait in /next now (the emulator counts them as they arrive).
        std::thread::sleep(Duration::from_millis(500));
        let third = next(&f.api_addr).expect_err("a third /next is refused at once");
        assert_eq!(third.status, 403, "{}", third.body_excerpt());
        assert!(
            String::from_utf8_lossy(&third.body).contains("AWS_LAMBDA_MAX_CONCURRENCY"),
            "{}",
            third.body_excerpt()
        );
        for i in 0..2 {
            let event = json!({ "i": i });
            own_answer(&f.invoke(event.to_string().as_bytes()), &event);
        }
        for w in workers {
            w.join().unwrap();
        }
    });
}

#[test]
fn answers_for_unknown_or_finished_ids_are_refused() {
    let (f, _) = managed("refused", 2, &[]);
    std::thread::scope(|s| {
        let callers: Vec<_> = (0..2)
            .map(|i| {
                let f = &f;
                s.spawn(move || (i, f.invoke(json!({ "i": i }).to_string().as_bytes())))
            })
            .collect();
        let first = next_event(&f.api_addr);
        let second = next_event(&f.api_addr);
        assert_ne!(first.id, second.id);
        let api = &f.api_addr;
        assert_eq!(post(api, &first.id, "response", &answer_for(&first)), 202);
        // The first is finished: neither a second answer nor an error for it is taken, and
        // an id never issued is refused too; the second slot is untouched by all that.
        assert_eq!(post(api, &first.id, "response", b"{\"twice\":1}"), 400);
        assert_eq!(post(api, &first.id, "error", b"{}"), 400);
        assert_eq!(post(api, "not-a-request-id", "response", b"{}"), 400);
        assert_eq!(post(api, &second.id, "response", &answer_for(&second)), 202);
        assert_eq!(post(api, &second.id, "response", b"{}"), 400);
        let mut seen = HashSet::new();
        for caller in callers {
            let (i, r) = caller.join().unwrap();
            seen.insert(own_answer(&r, &json!({ "i": i })));
        }
        let issued: HashSet<String> = [first.id, second.id].into();
        assert_eq!(seen, issued);
    });
}

#[test]
fn a_crash_fails_every_invocation_in_flight_then_the_next_ones_succeed() {
    let n = 4;
    let (f, pid_file) = managed("crash", n, &[]);
    let first_pid = pid_in(&pid_file);
    std::thread::scope(|s| {
        let callers: Vec<_> = (0..n)
            .map(|i| {
                let f = &f;
                s.spawn(move || f.invoke(json!({ "i": i }).to_string().as_bytes()))
            })
            .collect();
        let taken: HashSet<String> = (0..n).map(|_| next_event(&f.api_addr).id).collect();
        assert_eq!(taken.len(), n);
        // SAFETY: kill(2) on the placeholder process this test's emulator started.
        unsafe { libc::kill(first_pid, libc::SIGKILL) };
        let mut failed = HashSet::new();
        for caller in callers {
            let r = caller.join().unwrap();
            let body = r.expect_function_error("Runtime.ExitError");
            let message = body["errorMessage"].as_str().unwrap_or_default().to_owned();
            let id = taken
                .iter()
                .find(|id| message.contains(id.as_str()))
                .unwrap_or_else(|| panic!("{message} names no invocation in flight"));
            failed.insert(id.clone());
        }
        assert_eq!(failed, taken, "each in-flight invocation failed once");
        // The emulator started a new process; the next invocations are served.
        for _ in 0..n {
            s.spawn(|| serve_one(&f.api_addr, Duration::ZERO));
        }
        for i in 0..n {
            let event = json!({ "after": i });
            own_answer(&f.invoke(event.to_string().as_bytes()), &event);
        }
    });
    // The replacement starts after a short restart delay: wait for its pid.
    let start = Instant::now();
    while pid_in(&pid_file) == first_pid {
        assert!(start.elapsed() < T, "the process was not replaced");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn each_invocation_has_its_own_deadline_and_a_timeout_keeps_the_process() {
    let (f, pid_file) = managed("deadline", 2, &["--timeout", "1"]);
    let pid = pid_in(&pid_file);
    std::thread::scope(|s| {
        let start = Instant::now();
        let slow = s.spawn(|| f.invoke(br#"{"slow":true}"#));
        let slow_taken = next_event(&f.api_addr);
        let fast = s.spawn(|| f.invoke(br#"{"fast":true}"#));
        let fast_taken = next_event(&f.api_addr);
        assert_eq!(
            post(
                &f.api_addr,
                &fast_taken.id,
                "response",
                &answer_for(&fast_taken)
            ),
            202
        );
        own_answer(&fast.join().unwrap(), &json!({"fast": true}));
        let r = slow.join().unwrap();
        let body = r.expect_function_error("Sandbox.Timedout");
        assert!(
            body["errorMessage"]
                .as_str()
                .unwrap_or_default()
                .contains(&slow_taken.id),
            "{body}"
        );
        assert!(start.elapsed() >= Duration::from_millis(900));
        // Its late answer is refused; the slot is free for the next invocation.
        assert_eq!(
            post(
                &f.api_addr,
                &slow_taken.id,
                "response",
                &answer_for(&slow_taken)
            ),
            400
        );
        s.spawn(|| serve_one(&f.api_addr, Duration::ZERO));
        own_answer(&f.invoke(br#"{"later":1}"#), &json!({"later": 1}));
    });
    // Managed Instances keep the environment after a timeout: the same process serves on.
    assert_eq!(pid_in(&pid_file), pid);
    assert!(!f.output().contains("starting a new one"), "{}", f.output());
}

#[test]
fn sigterm_with_n_in_flight_loses_none() {
    let n = 4;
    let (mut f, _) = managed("sigterm", n, &[]);
    let (answers, queued) = std::thread::scope(|s| {
        let callers: Vec<_> = (0..n)
            .map(|i| {
                let f = &f;
                s.spawn(move || (i, f.invoke(json!({ "i": i }).to_string().as_bytes())))
            })
            .collect();
        let taken: Vec<Taken> = (0..n).map(|_| next_event(&f.api_addr)).collect();
        // One more caller waits for a slot: at stop it gets 503, it never ran.
        let queued = s.spawn(|| f.invoke(b"{\"queued\":1}"));
        std::thread::sleep(Duration::from_millis(200));
        f.signal(libc::SIGTERM);
        std::thread::sleep(Duration::from_millis(300));
        // The shutdown phase waits for every invocation in flight: answer them now.
        for t in &taken {
            assert_eq!(post(&f.api_addr, &t.id, "response", &answer_for(t)), 202);
        }
        let answers: Vec<_> = callers.into_iter().map(|c| c.join().unwrap()).collect();
        (answers, queued.join().unwrap())
    });
    for (i, r) in &answers {
        own_answer(r, &json!({ "i": i }));
    }
    assert_eq!(queued.status, 503, "{}", queued.body_excerpt());
    let status = f.wait(T).expect("the emulator exits after SIGTERM");
    assert!(status.success(), "{status:?}\n{}", f.output());
}

/// `n` callers of `f` each sleeping `ms` at once: how long they took together; each got its
/// own `{"slept_ms": ms}`.
fn sleep_together(f: &Function, n: usize, ms: u64) -> Duration {
    let start = Instant::now();
    together(n, |_| {
        let r = f.invoke(json!({ "ms": ms }).to_string().as_bytes());
        assert_eq!(r.status, 200, "{}\n{}", r.body_excerpt(), f.output());
        assert_eq!(r.expect_json(), json!({ "slept_ms": ms }));
    });
    start.elapsed()
}

#[test]
fn our_runtime_serves_n_at_once_under_the_emulator() {
    let f = Function::emulated(&example("sleep"), &[], &["--max-concurrency", "8"]);
    let elapsed = sleep_together(&f, 8, 500);
    assert!(
        elapsed < Duration::from_millis(2_500),
        "8 invocations of 500 ms took {elapsed:?}: not concurrent\n{}",
        f.output()
    );
    // 16 callers, 400 invocations of different lengths: each gets its own answer, each has
    // one REPORT line of its own.
    together(16, |c| {
        for i in 0..25 {
            let ms = (c + i) % 7;
            let r = f.invoke(json!({ "ms": ms }).to_string().as_bytes());
            assert_eq!(r.expect_json(), json!({ "slept_ms": ms }), "caller {c}");
        }
    });
    let reports = f.output().matches("REPORT RequestId: ").count();
    assert!(reports >= 408, "{reports} REPORT lines for 408 invocations");
}

#[test]
fn local_mode_takes_the_concurrency_from_its_flag_or_the_variable() {
    let by_flag = Function::local_with_args(&example("sleep"), &[], &["--max-concurrency", "4"]);
    let elapsed = sleep_together(&by_flag, 4, 500);
    assert!(
        elapsed < Duration::from_millis(1_800),
        "{elapsed:?}\n{}",
        by_flag.output()
    );
    drop(by_flag);
    let by_variable = Function::local(&example("sleep"), &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")]);
    let elapsed = sleep_together(&by_variable, 4, 500);
    assert!(
        elapsed < Duration::from_millis(1_800),
        "{elapsed:?}\n{}",
        by_variable.output()
    );
}

#[test]
fn without_the_flag_one_invocation_at_a_time_as_before() {
    let f = Function::emulated(&example("sleep"), &[], &[]);
    let elapsed = sleep_together(&f, 3, 300);
    assert!(
        elapsed >= Duration::from_millis(850),
        "3 invocations of 300 ms overlapped in {elapsed:?} without --max-concurrency"
    );
}

#[test]
fn n_streams_run_at_once_each_to_its_own_caller() {
    use faas_checks::event_stream::Stream;
    let f = Function::emulated(&example("stream"), &[], &["--max-concurrency", "4"]);
    let start = Instant::now();
    let streams: Vec<(usize, Vec<u8>, String)> = together(4, |i| {
        // Caller 3's stream fails after two tokens; the others end well.
        let fail = if i == 3 { r#", "fail_after": 2"# } else { "" };
        let event =
            format!(r#"{{"prompt": "c{i}-a c{i}-b c{i}-c c{i}-d", "delay_ms": 300{fail}}}"#);
        let stream = Stream::open(&f.invoke_addr, &event);
        assert_eq!(stream.status, 200, "{}", stream.head);
        let mut data = Vec::new();
        let mut end = String::new();
        for m in stream.messages() {
            match m.event_type.as_str() {
                "PayloadChunk" => data.extend_from_slice(&m.payload),
                _ => end = String::from_utf8_lossy(&m.payload).into_owned(),
            }
        }
        (i, data, end)
    });
    let elapsed = start.elapsed();
    // One stream takes 900 ms; four in turn would take 3.6 s.
    assert!(
        elapsed < Duration::from_millis(2_700),
        "4 streams of 900 ms took {elapsed:?}: not concurrent\n{}",
        f.output()
    );
    for (i, data, end) in streams {
        let text = String::from_utf8_lossy(&data);
        if i == 3 {
            assert_eq!(text, "c3-a c3-b ", "{end}");
            assert!(end.contains("TokenLimit"), "{end}");
        } else {
            assert_eq!(text, format!("c{i}-a c{i}-b c{i}-c c{i}-d "));
            assert!(!end.contains("ErrorCode"), "{end}");
        }
    }
}

/// The `START` request ids in `output`, in order.
fn starts(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| l.split("START RequestId: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// The `REPORT` line of invocation `id` in `output`, once it is there (within `T`).
fn report_of(f: &Function, id: &str) -> String {
    let needle = format!("REPORT RequestId: {id}");
    f.wait_for_output(&needle, T)
        .unwrap_or_else(|| panic!("no REPORT for {id}\n{}", f.output()));
    let output = f.output();
    let reports: Vec<&str> = output.lines().filter(|l| l.contains(&needle)).collect();
    assert_eq!(reports.len(), 1, "one REPORT per invocation:\n{output}");
    reports[0].to_owned()
}

/// The `Duration` of a REPORT line, in ms.
fn duration_ms(report: &str) -> f64 {
    report
        .split("\tDuration: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("no Duration in {report}"))
}

/// Stops `f` with SIGTERM, as a user does; returns its output once it exited cleanly.
fn stop(mut f: Function) -> String {
    f.signal(libc::SIGTERM);
    let status = f.wait(T).expect("the emulator exits after SIGTERM");
    assert!(status.success(), "{status:?}\n{}", f.output());
    f.output()
}

/// An external extension in bash over `/dev/tcp` (no curl on a fresh machine) in `dir`'s
/// `extensions/` (returned): it registers as `slow` for INVOKE and SHUTDOWN, appends
/// `registered`, `INVOKE <requestId>` and `SHUTDOWN <reason>` to `log`, and holds each INVOKE
/// for `hold` (sleeps) before it calls `next` again: an observability agent flushing.
fn slow_extension(dir: &std::path::Path, log: &std::path::Path, hold: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).unwrap();
    let extension = extensions.join("slow");
    std::fs::write(
        &extension,
        format!(
            r#"#!/bin/bash
api=$AWS_LAMBDA_RUNTIME_API
host=${{api%:*}}; port=${{api##*:}}
body='{{"events":["INVOKE","SHUTDOWN"]}}'
exec 3<>"/dev/tcp/$host/$port"
printf 'POST /2020-01-01/extension/register HTTP/1.1\r\nHost: %s\r\nLambda-Extension-Name: slow\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "$api" "${{#body}}" "$body" >&3
id=$(tr -d '\r' <&3 | sed -n 's/^[Ll]ambda-[Ee]xtension-[Ii]dentifier: //p')
exec 3<&-
echo registered >> {log:?}
while true; do
  exec 3<>"/dev/tcp/$host/$port"
  printf 'GET /2020-01-01/extension/event/next HTTP/1.1\r\nHost: %s\r\nLambda-Extension-Identifier: %s\r\nConnection: close\r\n\r\n' "$api" "$id" >&3
  event=$(cat <&3)
  exec 3<&-
  field() {{ printf '%s' "$event" | grep -o "\"$1\":\"[^\"]*\"" | cut -d'"' -f4; }}
  case $(field eventType) in
    INVOKE) echo "INVOKE $(field requestId)" >> {log:?}; sleep {hold} ;;
    SHUTDOWN) echo "SHUTDOWN $(field shutdownReason)" >> {log:?}; exit 0 ;;
    *) exit 1 ;;
  esac
done
"#
        ),
    )
    .unwrap();
    std::fs::set_permissions(&extension, std::fs::Permissions::from_mode(0o755)).unwrap();
    extensions
}

/// The request ids of the `INVOKE` lines in `log`, in order.
fn invoked(log: &std::path::Path) -> Vec<String> {
    read(log)
        .lines()
        .filter_map(|l| l.strip_prefix("INVOKE "))
        .map(str::to_owned)
        .collect()
}

/// Under `--max-concurrency 4` with an external extension registered for INVOKE that takes
/// 500 ms over each event, 4 invocations that sleep 1 s run at once: none waits for the
/// extension to be done with another (one at a time behind it they would take 2.5 s or
/// more). The extension gets the 4 INVOKE events (distinct request ids, the ones that
/// started), each invocation has exactly one REPORT, and SIGTERM still runs the shutdown
/// phase: the extension's SHUTDOWN comes last.
#[test]
fn an_invoke_extension_sees_every_concurrent_invocation() {
    let dir = scratch("four");
    let log = dir.join("extension.log");
    let extensions = slow_extension(&dir, &log, "0.5");
    let f = Function::emulated(
        &example("sleep"),
        &[],
        &[
            "--max-concurrency",
            "4",
            "--extensions-dir",
            extensions.to_str().unwrap(),
        ],
    );
    let elapsed = sleep_together(&f, 4, 1_000);
    assert!(
        elapsed < Duration::from_millis(2_200),
        "4 invocations of 1 s with an INVOKE extension took {elapsed:?}: not concurrent\n{}",
        f.output()
    );
    let started = starts(&f.output());
    assert_eq!(started.len(), 4, "{}", f.output());
    assert!(
        wait_until(&log, |text| text.matches("INVOKE ").count() >= 4),
        "{}\n{}",
        read(&log),
        f.output()
    );
    assert_eq!(
        invoked(&log).into_iter().collect::<HashSet<_>>(),
        started.iter().cloned().collect::<HashSet<_>>(),
        "4 distinct INVOKE events, one per invocation"
    );
    for id in &started {
        report_of(&f, id);
    }
    let output = stop(f);
    assert_eq!(
        output.matches("REPORT RequestId: ").count(),
        4,
        "no REPORT twice:\n{output}"
    );
    assert!(
        wait_until(&log, |text| text.contains("SHUTDOWN")),
        "{}\n{output}",
        read(&log)
    );
    let lines: Vec<String> = read(&log).lines().map(str::to_owned).collect();
    assert_eq!(lines.first().map(String::as_str), Some("registered"));
    assert_eq!(lines.last().map(String::as_str), Some("SHUTDOWN spindown"));
    assert_eq!(lines.len(), 6, "{lines:?}");
}

/// The same extension holding each INVOKE 400 ms, under `--max-concurrency 2`: both
/// invocations dispatch at once and their callers have their answers at the runtime's
/// (long before the extension is done), and each one's post-invoke phase is its own: the
/// first ends at the extension's second `next` (~400 ms), the second at its third (~800 ms
/// after both started), and each REPORT's Duration shows it.
#[test]
fn each_concurrent_invocation_ends_when_the_extension_lets_it_go() {
    let dir = scratch("post-invoke");
    let log = dir.join("extension.log");
    let extensions = slow_extension(&dir, &log, "0.4");
    let f = Function::emulated(
        &example("sleep"),
        &[],
        &[
            "--max-concurrency",
            "2",
            "--extensions-dir",
            extensions.to_str().unwrap(),
        ],
    );
    let elapsed = sleep_together(&f, 2, 0);
    assert!(
        elapsed < Duration::from_millis(700),
        "the callers waited for the extension ({elapsed:?}): the answer comes at the \
         runtime's, the extension's part is the post-invoke phase\n{}",
        f.output()
    );
    let started = starts(&f.output());
    assert_eq!(started.len(), 2, "{}", f.output());
    assert!(
        wait_until(&log, |text| text.matches("INVOKE ").count() >= 2),
        "{}\n{}",
        read(&log),
        f.output()
    );
    // In the order the extension got them.
    let order = invoked(&log);
    assert_eq!(
        order.iter().cloned().collect::<HashSet<_>>(),
        started.iter().cloned().collect::<HashSet<_>>()
    );
    let first = duration_ms(&report_of(&f, &order[0]));
    let second = duration_ms(&report_of(&f, &order[1]));
    assert!(first >= 380.0, "first REPORT {first} ms\n{}", f.output());
    // One at a time behind the extension, the second would start at ~400 ms and report
    // ~400 ms too.
    assert!(
        second >= 760.0 && second > first + 300.0,
        "second REPORT {second} ms (first {first} ms)\n{}",
        f.output()
    );
    let output = stop(f);
    assert_eq!(output.matches("REPORT RequestId: ").count(), 2, "{output}");
}
