//! Response streaming end to end: the `stream` example under `faas-emulator` and in local mode,
//! invoked through `InvokeWithResponseStream`
//! (`POST /2021-11-15/functions/function/response-streaming-invocations`), whose answer is
//! AWS's event stream: `PayloadChunk` messages as the function writes, then `InvokeComplete`.

use std::io::Write;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use faas_checks::event_stream::{Message, Stream};
use faas_checks::fixture::{Function, Served, example};
use faas_checks::http;
use faas_runtime::emulator::Emulator;
use faas_runtime::protocol::STREAM_INVOKE_PATH;
use serde_json::{Value, json};

fn text(m: &Message) -> &str {
    std::str::from_utf8(&m.payload).unwrap()
}

fn complete(m: &Message) -> Value {
    assert_eq!(m.event_type, "InvokeComplete", "{m:?}");
    serde_json::from_slice(&m.payload).unwrap()
}

#[test]
fn the_caller_holds_the_first_chunk_before_the_second_is_written() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let mut s = Stream::open(
        &f.invoke_addr,
        r#"{"prompt": "first second", "delay_ms": 500}"#,
    );
    assert_eq!(s.status, 200, "{}", s.head);
    assert!(
        s.head
            .to_ascii_lowercase()
            .contains("content-type: application/octet-stream"),
        "the stream's own content type (Lambda's default), not the framing's: {}",
        s.head
    );
    let first = s.next().unwrap();
    let second = s.next().unwrap();
    assert_eq!((text(&first), text(&second)), ("first ", "second "));
    assert!(
        second.at.duration_since(first.at) >= Duration::from_millis(400),
        "the first chunk arrived only {:?} before the second",
        second.at.duration_since(first.at)
    );
    assert_eq!(
        complete(&s.next().unwrap()),
        serde_json::json!({"LogResult": ""})
    );
    assert!(s.next().is_none());
}

#[test]
fn an_error_after_two_chunks_ends_the_stream_with_invoke_complete_error() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let s = Stream::open(
        &f.invoke_addr,
        r#"{"prompt": "a b c", "delay_ms": 1, "fail_after": 2}"#,
    );
    let messages = s.messages();
    let texts: Vec<&str> = messages[..2].iter().map(text).collect();
    assert_eq!(texts, ["a ", "b "]);
    let done = complete(&messages[2]);
    assert_eq!(done["ErrorCode"], "TokenLimit", "{done}");
    let details: Value = serde_json::from_str(done["ErrorDetails"].as_str().unwrap()).unwrap();
    assert_eq!(details["errorMessage"], "stopped after 2 tokens");
    assert_eq!(messages.len(), 3);
}

#[test]
fn a_panic_mid_stream_is_the_streams_error_and_the_function_restarts() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let s = Stream::open(
        &f.invoke_addr,
        // The pause before the panic lets the first chunk leave the process: what a function
        // wrote but had not sent when it died is lost, on Lambda as here.
        r#"{"prompt": "a b c", "delay_ms": 200, "panic_after": 1}"#,
    );
    let messages = s.messages();
    assert_eq!(text(&messages[0]), "a ");
    let done = complete(messages.last().unwrap());
    assert_eq!(done["ErrorCode"], "Runtime.Panic", "{done}");
    // The process was replaced; the next invocation streams again.
    let again = Stream::open(&f.invoke_addr, r#"{"prompt": "ok", "delay_ms": 1}"#).messages();
    assert_eq!(text(&again[0]), "ok ");
}

#[test]
fn a_caller_that_hangs_up_mid_stream_leaves_the_function_healthy() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let mut s = Stream::open(
        &f.invoke_addr,
        r#"{"prompt": "a b c d e f g h", "delay_ms": 100}"#,
    );
    assert_eq!(text(&s.next().unwrap()), "a ");
    drop(s);
    // The function finishes its stream into the void; the next caller is served.
    let again = Stream::open(&f.invoke_addr, r#"{"prompt": "next", "delay_ms": 1}"#).messages();
    assert_eq!(text(&again[0]), "next ");
    assert_eq!(complete(&again[1]), serde_json::json!({"LogResult": ""}));
    assert!(
        !f.output().contains("the function process ended"),
        "{}",
        f.output()
    );
}

#[test]
fn a_stream_over_the_limit_is_cut_with_a_clear_error() {
    // A 64 KiB limit set for the test (Lambda's is 200 MB); 100 tokens of ~1 KiB each.
    let f = Function::emulated(&example("stream"), &[], &["--max-stream-bytes", "65536"]);
    let prompt = vec!["x".repeat(1000); 100].join(" ");
    let event = serde_json::json!({"prompt": prompt, "delay_ms": 0}).to_string();
    let messages = Stream::open(&f.invoke_addr, &event).messages();
    let bytes: usize = messages[..messages.len() - 1]
        .iter()
        .map(|m| m.payload.len())
        .sum();
    assert!(bytes <= 65536, "{bytes}");
    let done = complete(messages.last().unwrap());
    assert_eq!(done["ErrorCode"], "Function.ResponseSizeTooLarge", "{done}");
    // Healthy afterwards.
    let again = Stream::open(&f.invoke_addr, r#"{"prompt": "ok", "delay_ms": 1}"#).messages();
    assert_eq!(text(&again[0]), "ok ");
}

#[test]
fn the_buffered_invoke_of_a_streaming_function_gets_the_whole_body() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let r = f.invoke(br#"{"prompt": "one two", "delay_ms": 1}"#);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"one two ");
}

#[test]
fn the_functions_content_type_reaches_the_caller() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let event = r#"{"prompt": "data:1", "delay_ms": 1, "content_type": "text/event-stream"}"#;
    let s = Stream::open(&f.invoke_addr, event);
    let head = s.head.to_ascii_lowercase();
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    let messages = s.messages();
    assert_eq!(text(&messages[0]), "data:1 ");
    assert_eq!(complete(&messages[1]), serde_json::json!({"LogResult": ""}));
    // The buffered Invoke of the same function answers with it too.
    let r = f.invoke(event.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body_excerpt());
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(r.body, b"data:1 ");
    // A value that is no header value fails the stream before its first byte, clearly.
    let bad = r#"{"prompt": "x", "content_type": "text/plain\r\nX-Injected: 1"}"#;
    let messages = Stream::open(&f.invoke_addr, bad).messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let done = complete(&messages[0]);
    assert_eq!(done["ErrorCode"], "Runtime.InvalidContentType", "{done}");
    // So does an event that is no JSON, as a whole answer (JSON, with a length).
    let s = Stream::open(&f.invoke_addr, "{not json");
    assert!(
        s.head
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{}",
        s.head
    );
    let messages = s.messages();
    assert_eq!(
        complete(&messages[0])["ErrorCode"],
        "Runtime.UnmarshalError"
    );
}

#[test]
fn local_mode_streams_too() {
    let f = Function::local(&example("stream"), &[]);
    let messages =
        Stream::open(&f.invoke_addr, r#"{"prompt": "local mode", "delay_ms": 1}"#).messages();
    assert_eq!(text(&messages[0]), "local ");
    assert_eq!(text(&messages[1]), "mode ");
}

#[test]
fn a_thousand_streamed_invocations_keep_memory_flat() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let rss = || {
        let status = std::fs::read_to_string(format!("/proc/{}/status", f.pid())).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap()
            .to_owned();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let event = r#"{"prompt": "a b c d", "delay_ms": 0}"#;
    for _ in 0..100 {
        assert_eq!(Stream::open(&f.invoke_addr, event).messages().len(), 5);
    }
    let before = rss();
    for _ in 0..900 {
        assert_eq!(Stream::open(&f.invoke_addr, event).messages().len(), 5);
    }
    let after = rss();
    println!("emulator RSS after 100 streams: {before} KiB; after 1,000: {after} KiB");
    assert!(
        after <= before + 2048,
        "RSS grew from {before} to {after} KiB"
    );
}

#[test]
fn a_stream_past_the_deadline_ends_with_the_timeout() {
    let f = Function::emulated(&example("stream"), &[], &["--timeout", "1"]);
    let messages =
        Stream::open(&f.invoke_addr, r#"{"prompt": "a b", "delay_ms": 3000}"#).messages();
    assert_eq!(text(&messages[0]), "a ");
    let done = complete(messages.last().unwrap());
    assert_eq!(done["ErrorCode"], "Sandbox.Timedout", "{done}");
    // The process is replaced; the next stream works.
    let again = Stream::open(&f.invoke_addr, r#"{"prompt": "ok", "delay_ms": 1}"#).messages();
    assert_eq!(text(&again[0]), "ok ");
}

// ---- Issue 22: a stuck caller, a queued caller after a timeout, an oversized error, the
// bandwidth cap, the frame at the limit. The function is `streaming/runtime.py`, which speaks
// the Runtime API itself; the caller's side is read by botocore's event-stream parser.

fn python_runtime() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/streaming/runtime.py")
}

/// `runtime.py` under `faas-emulator` with `args`.
fn python(env: &[(&str, &str)], args: &[&str]) -> Function {
    let script = python_runtime();
    Function::emulated_command(&["python3".as_ref(), script.as_os_str()], env, args)
}

/// The messages of an event-stream body as the AWS SDK for Python reads them (botocore's
/// `EventStreamBuffer`); panics with botocore's complaint when it refuses the framing.
fn sdk_messages(body: &[u8]) -> Vec<Value> {
    let parser =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/streaming/parse_event_stream.py");
    let mut child = Command::new("python3")
        .arg(parser)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut stdin = child.stdin.take().unwrap();
    let body = body.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(
        output.status.success(),
        "botocore refused the event stream (is botocore installed? `make setup`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The closing `InvokeComplete` of SDK-read messages, its payload parsed.
fn sdk_complete(messages: &[Value]) -> Value {
    let last = messages.last().expect("at least one message");
    assert_eq!(last["event_type"], "InvokeComplete", "{messages:?}");
    serde_json::from_str(last["payload"].as_str().unwrap()).unwrap()
}

fn payload_bytes(messages: &[Value]) -> u64 {
    messages
        .iter()
        .filter(|m| m["event_type"] == "PayloadChunk")
        .map(|m| m["length"].as_u64().unwrap())
        .sum()
}

/// A streaming caller that sends its request and then never reads, with a small receive buffer.
fn caller_that_never_reads(addr: &str, event: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).unwrap();
    let small: libc::c_int = 4096;
    // SAFETY: setsockopt on a socket we own, with a pointer to a live c_int and its size.
    unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&small as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    write!(
        tcp,
        "POST {STREAM_INVOKE_PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{event}",
        event.len()
    )
    .unwrap();
    tcp
}

/// Finding 1: callers that stop reading kept their dead function's Runtime API connection busy
/// (the stream blocked sending to them) until the cap refused the new process's `/next`.
#[test]
fn callers_that_stop_reading_hold_nothing_on_the_functions_side_once_their_invocation_ends() {
    let mut emulator = Emulator::new(vec!["python3".into(), python_runtime().into()]);
    emulator.timeout = Duration::from_secs(1);
    emulator.limits.max_api_connections = 4;
    let served = Served::start(emulator);
    // 16 MiB each, far more than the buffers between a stream and a caller that never reads.
    let event = json!({"stream": [[65536, 0]], "repeat": 256}).to_string();
    let stuck: Vec<TcpStream> = (0..5)
        .map(|_| caller_that_never_reads(&served.invoke_addr, &event))
        .collect();
    // Each stuck stream runs into its 1 s deadline in turn; then a caller that reads is served.
    let r = http::request(
        &served.invoke_addr,
        "POST",
        "/2015-03-31/functions/function/invocations",
        &[],
        br#"{"sleep_ms": 1}"#,
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(
        r.header("x-amz-function-error"),
        None,
        "{}",
        r.body_excerpt()
    );
    assert_eq!(r.body, br#"{"slept_ms": 1}"#);
    drop(stuck);
}

/// Finding 2, as Lambda has it: a caller queued behind a timeout gets the replacement
/// environment, whose init runs inside its invocation (Lambda's "suppressed init"): its
/// timeout runs from the replacement's start and covers init and handler, its `REPORT` has no
/// Init Duration and its Duration includes the 1.5 s init.
#[test]
fn a_caller_queued_behind_a_timeout_carries_the_replacement_s_init() {
    let f = python(&[("INIT_SLEEP_MS", "1500")], &["--timeout", "3"]);
    std::thread::scope(|s| {
        let first = s.spawn(|| f.invoke(br#"{"sleep_ms": 5000}"#));
        std::thread::sleep(Duration::from_millis(300));
        let queued = f.invoke(br#"{"sleep_ms": 300}"#);
        assert_eq!(
            queued.header("x-amz-function-error"),
            None,
            "{}\n{}",
            queued.body_excerpt(),
            f.output()
        );
        assert_eq!(queued.body, br#"{"slept_ms": 300}"#);
        let first = first.join().unwrap();
        let body: Value = serde_json::from_slice(&first.body).unwrap();
        assert_eq!(body["errorType"], "Sandbox.Timedout", "{body}");
    });
    let mut reports = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while reports.len() < 2 && Instant::now() < deadline {
        reports = f
            .output()
            .lines()
            .filter(|l| l.starts_with("REPORT"))
            .map(str::to_owned)
            .collect();
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = reports.get(1).unwrap_or_else(|| panic!("{}", f.output()));
    let ms: f64 = second
        .split("Duration: ")
        .nth(1)
        .and_then(|d| d.split(' ').next())
        .and_then(|d| d.parse().ok())
        .unwrap();
    assert!(ms >= 1700.0, "the init is not in its Duration: {second}");
    assert!(!second.contains("Init Duration"), "{second}");
}

/// Finding 2, with a short timeout: the restart backoff outgrew the timeout, so queued
/// invocations timed out before dispatch and an initialising process was killed and reported
/// as an init failure.
#[test]
fn callers_queued_behind_timeouts_each_get_a_timeout_never_an_init_failure() {
    let f = python(&[], &["--timeout", "1"]);
    let answers: Vec<Value> = std::thread::scope(|s| {
        let callers: Vec<_> = (0..8)
            .map(|i| {
                let f = &f;
                std::thread::sleep(Duration::from_millis(if i == 0 { 0 } else { 20 }));
                s.spawn(move || f.invoke(br#"{"sleep_ms": 4000}"#))
            })
            .collect();
        callers
            .into_iter()
            .map(|c| serde_json::from_slice(&c.join().unwrap().body).unwrap())
            .collect()
    });
    for answer in &answers {
        assert_eq!(
            answer["errorType"],
            "Sandbox.Timedout",
            "{answers:?}\n{}",
            f.output()
        );
    }
}

/// Finding 3: a 6 MiB `/error` body of control bytes escaped to a 37 MB `InvokeComplete` that
/// botocore refuses: the caller never saw the error code.
#[test]
fn an_oversized_error_reaches_the_sdk_with_its_code_and_a_marker() {
    let f = python(&[], &["--timeout", "30"]);
    let event = json!({"error_bytes": 6 * 1024 * 1024 - 64}).to_string();
    let s = Stream::open(&f.invoke_addr, &event);
    assert_eq!(s.status, 200, "{}", s.head);
    let raw = s.raw();
    assert!(raw.len() < 512 * 1024, "{} bytes", raw.len());
    let messages = sdk_messages(&raw);
    let done = sdk_complete(&messages);
    assert_eq!(done["ErrorCode"], "Unhandled", "{done}");
    let details = done["ErrorDetails"].as_str().unwrap();
    assert!(details.starts_with("\u{1}\u{1}"), "{}", &details[..40]);
    assert!(
        details.ends_with("more bytes not shown]"),
        "{}",
        &details[details.len() - 80..]
    );
}

/// The event of a stream that sends its first 6 MiB slowly (six 1 MiB chunks, each followed
/// by a 600 ms pause), then 6 MiB at once.
fn slow_start_then_burst() -> String {
    let mib = 1024 * 1024;
    let mut pieces = vec![[mib, 600]; 6];
    pieces.extend([[mib, 0]; 6]);
    json!({ "stream": pieces }).to_string()
}

/// Finding 4: the 2 MiB/s cap counted from the stream's start, so a producer that sent its
/// first 6 MiB slowly could then burst. Timed on the function's side, whose POST is answered
/// once the emulator has read the last byte: the caller hangs up after the first chunk, so no
/// event-stream framing costs CPU (in a debug build that alone is near 2 MiB/s).
#[test]
fn the_bandwidth_cap_runs_from_the_end_of_the_uncapped_six_mib() {
    let f = python(&[], &["--timeout", "30"]);
    let mut s = Stream::open(&f.invoke_addr, &slow_start_then_burst());
    assert_eq!(s.next().unwrap().event_type, "PayloadChunk");
    drop(s);
    let line = f
        .wait_for_output("stream answered", Duration::from_secs(20))
        .unwrap_or_else(|| panic!("{}", f.output()));
    let ms: u64 = line
        .split("answered 202, ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    // The last 6 MiB at 2 MiB/s: 3 s from the first byte past the uncapped 6 MiB.
    assert!(
        (2600..10_000).contains(&ms),
        "the 6 MiB past the uncapped start were taken in {ms} ms"
    );
}

/// Regression: the caller gets the bytes past the uncapped 6 MiB at 2 MiB/s.
#[test]
fn streams_past_six_mib_reach_the_caller_at_two_mib_per_second() {
    let f = python(&[], &["--timeout", "30"]);
    let mib = 1024 * 1024;
    let s = Stream::open(&f.invoke_addr, &slow_start_then_burst());
    let (mut total, mut at_six, mut at_twelve) = (0, None, None);
    for m in s {
        if m.event_type != "PayloadChunk" {
            assert_eq!(complete(&m), json!({"LogResult": ""}));
            break;
        }
        total += m.payload.len();
        if total >= 6 * mib && at_six.is_none() {
            at_six = Some(m.at);
        }
        if total >= 12 * mib && at_twelve.is_none() {
            at_twelve = Some(m.at);
        }
    }
    let burst = at_twelve.unwrap().duration_since(at_six.unwrap());
    assert!(
        burst >= Duration::from_millis(2600) && burst <= Duration::from_secs(10),
        "the 6 MiB past the uncapped start took {burst:?}"
    );
}

/// Finding 5: the frame that crossed the limit was dropped whole; what fits now goes.
#[test]
fn the_frame_that_crosses_the_stream_limit_is_cut_not_dropped() {
    let f = python(&[], &["--max-stream-bytes", "100000"]);
    let event = json!({"stream": [[65536, 100]], "repeat": 4}).to_string();
    let messages = sdk_messages(&Stream::open(&f.invoke_addr, &event).raw());
    assert_eq!(payload_bytes(&messages), 100_000, "{messages:?}");
    let done = sdk_complete(&messages);
    assert_eq!(done["ErrorCode"], "Function.ResponseSizeTooLarge", "{done}");
}

/// Finding 5: after a mid-stream `/error` was accepted, the stream's own POST was answered 202.
#[test]
fn a_stream_ended_by_an_error_mid_stream_is_not_acknowledged_as_a_response() {
    let f = python(&[], &["--timeout", "30"]);
    let messages =
        sdk_messages(&Stream::open(&f.invoke_addr, r#"{"error_mid_stream": true}"#).raw());
    assert_eq!(payload_bytes(&messages), 1000, "{messages:?}");
    assert_eq!(sdk_complete(&messages)["ErrorCode"], "MidStream");
    assert!(
        f.wait_for_output("error answered 202", Duration::from_secs(10))
            .is_some(),
        "{}",
        f.output()
    );
    let line = f
        .wait_for_output("stream answered", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{}", f.output()));
    assert!(line.contains("stream answered 403"), "{line}");
}

/// Regression: a malformed chunk mid-stream is never a clean success.
#[test]
fn a_malformed_chunk_mid_stream_ends_with_a_truncated_response_error() {
    let f = python(&[], &["--timeout", "30"]);
    let messages = sdk_messages(&Stream::open(&f.invoke_addr, r#"{"bad_chunk": true}"#).raw());
    assert_eq!(payload_bytes(&messages), 1000, "{messages:?}");
    assert_eq!(
        sdk_complete(&messages)["ErrorCode"],
        "Runtime.TruncatedResponse"
    );
}

/// Regression: the buffered `Invoke` of a 10 MB stream gets Lambda's size error, whole.
#[test]
fn the_buffered_invoke_of_a_ten_mb_stream_is_a_size_error() {
    let f = python(&[], &["--timeout", "30"]);
    let r = f.invoke(br#"{"stream": [[1048576, 0]], "repeat": 10}"#);
    assert_eq!(r.header("x-amz-function-error"), Some("Unhandled"));
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["errorType"], "Function.ResponseSizeTooLarge", "{body}");
}

/// Regression: a caller that reads slowly holds the function back (backpressure) instead of
/// the emulator buffering the stream: its memory stays flat while 6 MiB pass.
#[test]
fn a_slow_reader_is_served_with_bounded_memory() {
    let f = python(&[], &["--timeout", "30"]);
    let rss_kib = || {
        let status = std::fs::read_to_string(format!("/proc/{}/status", f.pid())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    // Warm up the allocator and the connection paths with a small stream first.
    let warm = json!({"stream": [[65536, 0]], "repeat": 4}).to_string();
    assert_eq!(
        payload_bytes(&sdk_messages(&Stream::open(&f.invoke_addr, &warm).raw())),
        262_144
    );
    let before = rss_kib();
    let event = json!({"stream": [[65536, 0]], "repeat": 96}).to_string();
    let s = Stream::open(&f.invoke_addr, &event);
    let (mut total, mut peak) = (0, before);
    for m in s {
        if m.event_type != "PayloadChunk" {
            assert_eq!(complete(&m), json!({"LogResult": ""}));
            break;
        }
        total += m.payload.len();
        peak = peak.max(rss_kib());
        std::thread::sleep(Duration::from_millis(15));
    }
    assert_eq!(total, 96 * 65536);
    println!("emulator RSS {before} KiB before a slow 6 MiB stream, at most {peak} KiB during it");
    assert!(
        peak <= before + 3 * 1024,
        "RSS grew from {before} to {peak} KiB"
    );
}
