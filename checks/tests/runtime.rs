//! The runtime's behaviour as a caller sees it: real function processes under `faas-emulator`
//! (and in local mode), invoked over loopback.

use std::time::{Duration, Instant};

use faas_checks::fixture::{Function, binary, example};
use serde_json::{Value, json};

const MAX_PAYLOAD: usize = 6 * 1024 * 1024;

#[test]
fn typed_event_gets_typed_response() {
    let f = Function::emulated(&binary("bootstrap"), &[], &[]);
    let r = f.invoke(br#"{"name":"Ada"}"#);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-amz-function-error"), None);
    assert_eq!(r.expect_json(), json!({"message": "Hello, Ada!"}));
}

#[test]
fn untyped_event_is_echoed_unchanged_with_unicode() {
    let f = Function::emulated(&example("echo"), &[], &[]);
    let event =
        json!({"text": "ünïcødé ✓ 🚀 中文", "n": [1, 2.5, null, true], "nested": {"a": {}}});
    let r = f.invoke(event.to_string().as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.expect_json(), event);
}

#[test]
fn handler_error_reaches_caller_with_its_type() {
    let f = Function::emulated(&example("error"), &[], &[]);
    let body = f.invoke(b"{}").expect_function_error("OrderRejected");
    assert_eq!(body["errorMessage"], "the order was rejected on purpose");
    let f = Function::emulated(&binary("bootstrap"), &[], &[]);
    f.invoke(br#"{"name":""}"#)
        .expect_function_error("EmptyName");
}

#[test]
fn invalid_json_event_is_an_unmarshal_error_and_the_loop_goes_on() {
    let f = Function::emulated(&binary("bootstrap"), &[], &[]);
    let body = f
        .invoke(b"{not json")
        .expect_function_error("Runtime.UnmarshalError");
    assert!(
        body["errorMessage"].as_str().unwrap().contains("Greeting"),
        "{body}"
    );
    // Valid JSON of the wrong shape is the same error.
    f.invoke(br#"{"nom":"x"}"#)
        .expect_function_error("Runtime.UnmarshalError");
    assert_eq!(f.invoke(br#"{"name":"still here"}"#).status, 200);
    assert_eq!(
        f.invoke(br#"{"name":"B"}"#).expect_json()["message"],
        "Hello, B!"
    );
}

#[test]
fn non_utf8_event_is_an_unmarshal_error() {
    let f = Function::emulated(&example("echo"), &[], &[]);
    f.invoke(&[b'"', 0xff, 0xfe, b'"'])
        .expect_function_error("Runtime.UnmarshalError");
    assert_eq!(f.invoke(b"1").body, b"1");
}

#[test]
fn panic_is_reported_to_caller_and_the_function_restarts() {
    let f = Function::emulated(&example("panic"), &[], &[]);
    for _ in 0..2 {
        let body = f.invoke(b"{}").expect_function_error("Runtime.Panic");
        let message = body["errorMessage"].as_str().unwrap();
        assert!(
            message.contains("the panic example panicked on purpose"),
            "{message}"
        );
    }
}

#[test]
fn timeout_fails_the_invocation_and_replaces_the_process() {
    let f = Function::emulated(&example("sleep"), &[], &["--timeout", "1"]);
    let started = Instant::now();
    let body = f.invoke(b"{}").expect_function_error("Sandbox.Timedout");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Task timed out after 1.00 seconds"),
        "{body}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // The next invocation runs in a fresh process.
    assert_eq!(
        f.invoke(br#"{"ms":10}"#).expect_json(),
        json!({"slept_ms": 10})
    );
}

#[test]
fn event_of_exactly_6_mib_passes_and_one_byte_more_gets_413() {
    let f = Function::emulated(&example("echo"), &[], &[]);
    let mut event = vec![b'a'; MAX_PAYLOAD];
    event[0] = b'"';
    event[MAX_PAYLOAD - 1] = b'"';
    let r = f.invoke(&event);
    assert_eq!(r.status, 200, "{}", r.body_excerpt());
    assert_eq!(r.body.len(), MAX_PAYLOAD);
    event.insert(1, b'a');
    let r = f.invoke(&event);
    assert_eq!(r.status, 413);
    assert_eq!(
        r.expect_json()["errorType"],
        "RequestEntityTooLargeException"
    );
    // Nothing broke.
    assert_eq!(f.invoke(b"[]").body, b"[]");
}

#[test]
fn response_over_6_mib_is_refused_and_the_caller_told() {
    let f = Function::emulated(&example("large_response"), &[], &[]);
    let ok = f.invoke(format!(r#"{{"bytes":{MAX_PAYLOAD}}}"#).as_bytes());
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body.len(), MAX_PAYLOAD);
    let r = f.invoke(format!(r#"{{"bytes":{}}}"#, MAX_PAYLOAD + 1).as_bytes());
    r.expect_function_error("Function.ResponseSizeTooLarge");
    // The runtime logged the API's 413 and kept serving.
    assert!(
        f.wait_for_output("413", Duration::from_secs(5)).is_some(),
        "{}",
        f.output()
    );
    assert_eq!(f.invoke(br#"{"bytes":4}"#).body, br#""xx""#);
}

#[test]
fn every_context_header_round_trips() {
    let env = [
        ("AWS_LAMBDA_FUNCTION_NAME", "orders"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "7"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/orders"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/26/[7]abc"),
    ];
    let f = Function::emulated(&example("context"), &env, &["--timeout", "30"]);
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let client_context = r#"{"client":{"app_title":"shop"},"custom":{"k":"v"}}"#;
    let identity =
        r#"{"cognitoIdentityId":"eu-west-1:123","cognitoIdentityPoolId":"eu-west-1:pool"}"#;
    let encoded = base64(client_context.as_bytes());
    let headers = [
        ("X-Amzn-Trace-Id", trace),
        ("X-Amz-Client-Context", encoded.as_str()),
        ("X-Amz-Cognito-Identity", identity),
    ];
    let r = f.invoke_with(&headers, b"{}");
    assert_eq!(r.status, 200, "{}", r.body_excerpt());
    let body = r.expect_json();
    let ctx = &body["context"];
    let id = ctx["requestId"].as_str().unwrap();
    assert_eq!(id.len(), 36, "{id}");
    let start = format!("START RequestId: {id}");
    assert!(f.wait_for_output(&start, Duration::from_secs(5)).is_some());
    assert_eq!(
        ctx["invokedFunctionArn"],
        "arn:aws:lambda:us-east-1:012345678912:function:orders"
    );
    assert_eq!(ctx["xrayTraceId"], trace);
    assert_eq!(
        body["traceEnv"], trace,
        "_X_AMZN_TRACE_ID is exported during the invocation"
    );
    assert_eq!(
        ctx["clientContext"],
        serde_json::from_str::<Value>(client_context).unwrap()
    );
    assert_eq!(
        ctx["identity"],
        serde_json::from_str::<Value>(identity).unwrap()
    );
    let remaining = body["remainingMs"].as_u64().unwrap();
    assert!((25_000..=30_000).contains(&remaining), "{remaining}");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let deadline = ctx["deadlineMs"].as_u64().unwrap();
    assert!(
        deadline > now_ms && deadline <= now_ms + 30_000,
        "{deadline} vs {now_ms}"
    );
    assert_eq!(
        ctx["function"],
        json!({"function_name": "orders", "version": "7", "memory_size_mb": 256,
               "log_group_name": "/aws/lambda/orders", "log_stream_name": "2026/11/26/[7]abc"})
    );
    // Without a trace header the emulator makes one, and the env var is gone between invocations.
    let body = f.invoke(b"{}").expect_json();
    assert!(
        body["context"]["xrayTraceId"]
            .as_str()
            .unwrap()
            .starts_with("Root=1-")
    );
    assert_eq!(body["traceEnv"], body["context"]["xrayTraceId"]);
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn init_error_is_posted_and_the_process_exits_non_zero() {
    let f = Function::emulated(&example("init_fail"), &[], &[]);
    let body = f.invoke(b"{}").expect_function_error("ConfigMissing");
    assert_eq!(body["errorMessage"], "ORDERS_TABLE is not set");
    let line = f
        .wait_for_output("the function process ended", Duration::from_secs(5))
        .unwrap();
    assert!(line.contains("exit status: 1"), "{line}");
    // With the setting present the same binary serves.
    let f = Function::emulated(&example("init_fail"), &[("ORDERS_TABLE", "orders")], &[]);
    assert_eq!(f.invoke(b"{}").body, br#""orders""#);
}

#[test]
fn bad_configuration_is_an_init_error() {
    let f = Function::emulated(&example("echo"), &[("AWS_LAMBDA_LOG_FORMAT", "xml")], &[]);
    let body = f.invoke(b"{}").expect_function_error("Runtime.ConfigError");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("AWS_LAMBDA_LOG_FORMAT"),
        "{body}"
    );
}

#[test]
fn sigterm_during_an_invocation_finishes_it_then_exits_0() {
    // The function's own SIGTERM handling: the emulator signals it although no extension
    // registered (Lambda would kill it; checks/tests/lifecycle.rs).
    let mut f = Function::emulated(
        &example("sleep"),
        &[("FAAS_EMULATOR_SIGTERM", "always")],
        &[],
    );
    std::thread::scope(|s| {
        let call = s.spawn(|| f.invoke(br#"{"ms":700}"#));
        std::thread::sleep(Duration::from_millis(200));
        f.signal(libc::SIGTERM);
        let r = call.join().unwrap();
        assert_eq!(r.status, 200, "{}", r.body_excerpt());
        assert_eq!(r.expect_json(), json!({"slept_ms": 700}));
    });
    let status = f
        .wait(Duration::from_secs(10))
        .expect("the emulator exits after SIGTERM");
    assert!(status.success(), "{status}");
    let line = f
        .wait_for_output(
            "stopped; the function process ended",
            Duration::from_secs(2),
        )
        .unwrap();
    assert!(
        line.contains("exit status: 0"),
        "the function itself exits 0: {line}"
    );
}

#[test]
fn sigterm_while_idle_exits_0_at_once() {
    let mut f = Function::local(&binary("bootstrap"), &[]);
    assert_eq!(f.invoke(br#"{"name":"x"}"#).status, 200);
    let started = Instant::now();
    f.signal(libc::SIGTERM);
    let status = f.wait(Duration::from_secs(5)).expect("exits after SIGTERM");
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn api_unreachable_at_start_exits_with_one_clear_line() {
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let api = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let out = std::process::Command::new(binary("bootstrap"))
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "bounded retries"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("AWS_LAMBDA_RUNTIME_API"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.contains(&api) && line.contains("cannot reach the Runtime API"),
        "{line}"
    );
}

/// A Runtime API driven by hand: the test reads each request of one function process and
/// writes the answers, for the cases the emulator would never produce.
struct ScriptedApi {
    addr: String,
    listener: Option<std::net::TcpListener>,
    conn: Option<std::io::BufReader<std::net::TcpStream>>,
    function: std::process::Child,
}

impl ScriptedApi {
    fn start(function: &std::path::Path) -> Self {
        Self::start_at(function, "127.0.0.1:0", |addr| addr.to_string())
    }

    /// Listens on `bind`; the function's `AWS_LAMBDA_RUNTIME_API` is `api(listening address)`.
    fn start_at(
        function: &std::path::Path,
        bind: &str,
        api: impl Fn(std::net::SocketAddr) -> String,
    ) -> Self {
        let listener = std::net::TcpListener::bind(bind).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let function = std::process::Command::new(function)
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                api(listener.local_addr().unwrap()),
            )
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        Self {
            addr,
            listener: Some(listener),
            conn: None,
            function,
        }
    }

    /// The next request: its head (request line and headers) and its body.
    fn request(&mut self) -> (String, String) {
        use std::io::{BufRead, Read};
        let conn = self.conn.get_or_insert_with(|| {
            let (stream, _) = self.listener.as_ref().unwrap().accept().unwrap();
            // A request that never comes fails the test instead of hanging it.
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            std::io::BufReader::new(stream)
        });
        let (mut head, mut length) = (String::new(), 0);
        loop {
            let mut line = String::new();
            conn.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut body = vec![0; length];
        conn.read_exact(&mut body).unwrap();
        (head, String::from_utf8(body).unwrap())
    }

    fn expect_next(&mut self) {
        let (head, _) = self.request();
        assert!(
            head.starts_with("GET /2018-06-01/runtime/invocation/next HTTP/1.1"),
            "{head}"
        );
    }

    fn answer(&mut self, raw: &str) {
        use std::io::Write;
        self.conn
            .as_mut()
            .unwrap()
            .get_mut()
            .write_all(raw.as_bytes())
            .unwrap();
    }

    /// Closes the connection (the next request comes on a new one).
    fn hang_up(&mut self) {
        self.conn = None;
    }

    /// Closes the API for good: listener and connection.
    fn vanish(&mut self) {
        self.listener = None;
        self.conn = None;
    }

    /// Waits for the function to exit; its status and stderr.
    fn finish(mut self) -> (std::process::ExitStatus, String) {
        use std::io::Read;
        let status = self.function.wait().unwrap();
        let mut stderr = String::new();
        self.function
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (status, stderr)
    }
}

#[test]
fn chunked_answers_closed_connections_and_a_reset_keep_alive_are_followed() {
    let mut api = ScriptedApi::start(&example("echo"));
    // An event in chunks, on a connection the API closes after it.
    api.expect_next();
    api.answer("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n");
    api.hang_up();
    let (head, body) = api.request();
    assert!(
        head.starts_with("POST /2018-06-01/runtime/invocation/r1/response"),
        "{head}"
    );
    assert_eq!(body, r#"{"a":1}"#);
    api.answer("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
    // A kept-alive connection the API drops while the runtime waits: asked again at once, on
    // a new connection.
    api.expect_next();
    api.hang_up();
    api.expect_next();
    api.answer(
        "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r2\r\nContent-Length: 2\r\n\r\n[]",
    );
    let (head, body) = api.request();
    assert!(
        head.starts_with("POST /2018-06-01/runtime/invocation/r2/response"),
        "{head}"
    );
    assert_eq!(body, "[]");
    api.answer("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
    api.expect_next();
    // SAFETY: kill(2) on this test's own child.
    unsafe { libc::kill(api.function.id() as i32, libc::SIGTERM) };
    let (status, stderr) = api.finish();
    assert!(status.success(), "{status}: {stderr}");
}

#[test]
fn api_gone_mid_run_exits_non_zero_with_the_address() {
    let mut api = ScriptedApi::start(&example("echo"));
    api.expect_next();
    api.answer("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\nLambda-Runtime-Deadline-Ms: 99999999999999\r\nContent-Length: 2\r\n\r\n{}");
    let addr = api.addr.clone();
    api.vanish();
    let (status, stderr) = api.finish();
    assert!(!status.success());
    let expected =
        format!("cannot reach the Runtime API at http://{addr} (AWS_LAMBDA_RUNTIME_API)");
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn garbled_request_id_and_deadline_are_survived() {
    let mut api = ScriptedApi::start(&example("context"));
    // 1. No request id: skipped, and the runtime asks again.
    api.expect_next();
    api.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    // 2. A path-breaking request id: skipped too.
    api.expect_next();
    api.answer(
        "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: ../../x\r\nContent-Length: 2\r\n\r\n{}",
    );
    // 3. A good id with a garbled deadline: handled, with no deadline.
    api.expect_next();
    api.answer("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: good-1\r\nLambda-Runtime-Deadline-Ms: soon\r\nContent-Length: 2\r\n\r\n{}");
    let (head, body) = api.request();
    assert!(
        head.starts_with("POST /2018-06-01/runtime/invocation/good-1/response"),
        "{head}"
    );
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["context"]["deadlineMs"], Value::Null);
    // 4. A 500 from the API is logged with its body.
    api.answer("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 7\r\n\r\noops!!!");
    api.expect_next();
    // SAFETY: kill(2) on this test's own child.
    unsafe { libc::kill(api.function.id() as i32, libc::SIGTERM) };
    let (status, stderr) = api.finish();
    assert!(status.success(), "{status}");
    assert!(
        stderr.contains("no lambda-runtime-aws-request-id header"),
        "{stderr}"
    );
    assert!(stderr.contains("not usable"), "{stderr}");
    assert!(
        stderr.contains("lambda-runtime-deadline-ms header is not a number"),
        "{stderr}"
    );
    assert!(
        stderr.contains("500 Internal Server Error: oops!!!"),
        "{stderr}"
    );
}

#[test]
fn json_logs_carry_the_request_id() {
    let f = Function::emulated(&example("error"), &[("AWS_LAMBDA_LOG_FORMAT", "JSON")], &[]);
    let r = f.invoke(b"{}");
    assert_eq!(r.status, 200);
    let line = f
        .wait_for_output("\"invocation failed", Duration::from_secs(5))
        .unwrap_or_else(|| f.output());
    let log: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(log["level"], "WARN");
    let id = log["requestId"].as_str().unwrap();
    let start = format!("START RequestId: {id}");
    assert!(
        f.wait_for_output(&start, Duration::from_secs(5)).is_some(),
        "{}",
        f.output()
    );
}

#[test]
fn log_level_filters_lines() {
    let f = Function::emulated(&example("error"), &[("AWS_LAMBDA_LOG_LEVEL", "ERROR")], &[]);
    f.invoke(b"{}");
    f.invoke(b"{}");
    assert!(
        f.wait_for_output("REPORT", Duration::from_secs(5))
            .is_some()
    );
    assert!(
        !f.output().contains("invocation failed"),
        "WARN lines are filtered out:\n{}",
        f.output()
    );
}

#[test]
fn local_mode_serves_the_invoke_endpoint_itself() {
    let f = Function::local(&binary("bootstrap"), &[]);
    let banner = f
        .wait_for_output("local mode", Duration::from_secs(1))
        .unwrap();
    assert!(
        banner.contains("AWS_LAMBDA_RUNTIME_API is unset"),
        "{banner}"
    );
    assert_eq!(
        f.invoke(br#"{"name":"local"}"#).expect_json(),
        json!({"message": "Hello, local!"})
    );
    assert!(
        f.wait_for_output("REPORT RequestId:", Duration::from_secs(2))
            .is_some()
    );
}

#[test]
fn local_mode_survives_a_panic() {
    let f = Function::local(&example("panic"), &[]);
    for _ in 0..2 {
        f.invoke(b"{}").expect_function_error("Runtime.Panic");
    }
}

#[test]
fn thousand_sequential_invocations() {
    let f = Function::emulated(&example("echo"), &[], &[]);
    let started = Instant::now();
    let mut times = Vec::with_capacity(1000);
    for i in 0..1000 {
        let t = Instant::now();
        let event = format!(r#"{{"i":{i}}}"#);
        let r = f.invoke(event.as_bytes());
        times.push(t.elapsed());
        assert_eq!(r.status, 200);
        assert_eq!(r.body, event.as_bytes());
    }
    times.sort();
    println!(
        "1000 sequential invocations (debug build, new connection each): {:.0} ms in all, median {} us, p99 {} us",
        started.elapsed().as_secs_f64() * 1000.0,
        times[500].as_micros(),
        times[990].as_micros()
    );
}

#[test]
fn concurrent_invokes_wait_their_turn() {
    let f = Function::emulated(&example("sleep"), &[], &[]);
    let started = Instant::now();
    std::thread::scope(|s| {
        let calls: Vec<_> = (0..4)
            .map(|_| s.spawn(|| f.invoke(br#"{"ms":100}"#)))
            .collect();
        for call in calls {
            let r = call.join().unwrap();
            assert_eq!(r.status, 200, "{}", r.body_excerpt());
        }
    });
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "one at a time"
    );
}

/// The function process of an emulator (its only child).
fn function_pid(emulator_pid: u32) -> Option<i32> {
    let children =
        std::fs::read_to_string(format!("/proc/{emulator_pid}/task/{emulator_pid}/children"))
            .ok()?;
    children.split_whitespace().next()?.parse().ok()
}

#[test]
fn function_killed_while_idle_is_replaced_without_losing_the_next_event() {
    let f = Function::emulated(&example("echo"), &[], &[]);
    assert_eq!(f.invoke(b"1").body, b"1");
    let pid = function_pid(f.pid()).expect("the emulator runs the function as its child");
    // SAFETY: kill(2) on a process of this test.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    assert!(
        f.wait_for_output("signal: 9", Duration::from_secs(5))
            .is_some(),
        "{}",
        f.output()
    );
    let r = f.invoke(b"2");
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, b"2".as_slice()),
        "{}",
        r.body_excerpt()
    );
}

/// One invocation through a scripted API whose address is given as `api(listening address)`:
/// every request must arrive under `base` with the `Host` header `host(listening address)`.
fn one_invocation_through(
    bind: &str,
    api: impl Fn(std::net::SocketAddr) -> String,
    base: &str,
    host: impl Fn(std::net::SocketAddr) -> String,
) {
    let mut scripted = ScriptedApi::start_at(&example("echo"), bind, &api);
    let addr: std::net::SocketAddr = scripted.addr.parse().unwrap();
    let (head, _) = scripted.request();
    let next = format!("GET {base}/2018-06-01/runtime/invocation/next HTTP/1.1");
    assert!(head.starts_with(&next), "{} gave {head}", api(addr));
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("host: {}\r\n", host(addr))),
        "{head}"
    );
    scripted.answer("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\nLambda-Runtime-Deadline-Ms: 99999999999999\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
    let (head, body) = scripted.request();
    let response = format!("POST {base}/2018-06-01/runtime/invocation/r1/response HTTP/1.1");
    assert!(head.starts_with(&response), "{head}");
    assert_eq!(body, r#"{"a":1}"#);
    scripted.answer("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
    scripted.expect_next_under(base);
    let _ = scripted.function.kill();
}

impl ScriptedApi {
    fn expect_next_under(&mut self, base: &str) {
        let (head, _) = self.request();
        let next = format!("GET {base}/2018-06-01/runtime/invocation/next HTTP/1.1");
        assert!(head.starts_with(&next), "{head}");
    }
}

#[test]
fn runtime_api_as_host_port_hostname_and_url() {
    let port = |a: std::net::SocketAddr| a.port();
    one_invocation_through("127.0.0.1:0", |a| a.to_string(), "", |a| a.to_string());
    one_invocation_through(
        "127.0.0.1:0",
        |a| format!("localhost:{}", port(a)),
        "",
        |a| format!("localhost:{}", port(a)),
    );
    one_invocation_through(
        "127.0.0.1:0",
        |a| format!("http://127.0.0.1:{}/", port(a)),
        "",
        |a| a.to_string(),
    );
    one_invocation_through(
        "127.0.0.1:0",
        |a| format!("http://localhost:{}/lambda/rapi/", port(a)),
        "/lambda/rapi",
        |a| format!("localhost:{}", port(a)),
    );
}

#[test]
fn runtime_api_as_ipv6_literal() {
    one_invocation_through(
        "[::1]:0",
        |a| format!("[::1]:{}", a.port()),
        "",
        |a| format!("[::1]:{}", a.port()),
    );
}

#[test]
fn runtime_api_forms_work_under_the_emulator() {
    // The emulator hands the function 127.0.0.1:PORT; a shell rewrites it into each form.
    for form in [
        "localhost:$port",
        "http://127.0.0.1:$port",
        "http://localhost:$port/",
    ] {
        let script = format!(
            "port=${{AWS_LAMBDA_RUNTIME_API##*:}}; AWS_LAMBDA_RUNTIME_API=\"{form}\" exec \"$0\""
        );
        let echo = example("echo");
        let f = Function::emulated_command(
            &[
                "sh".as_ref(),
                "-c".as_ref(),
                script.as_ref(),
                echo.as_os_str(),
            ],
            &[],
            &[],
        );
        let r = f.invoke(br#"{"form":1}"#);
        assert_eq!(r.status, 200, "{form}: {}", f.output());
        assert_eq!(r.expect_json(), json!({"form": 1}), "{form}");
    }
}

#[test]
fn unusable_runtime_api_is_one_line_naming_the_variable_and_value() {
    for bad in [
        "https://127.0.0.1:9001",
        "127.0.0.1:port",
        "http://u@h:1",
        "/only/a/path",
    ] {
        let out = std::process::Command::new(example("echo"))
            .env("AWS_LAMBDA_RUNTIME_API", bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("AWS_LAMBDA_RUNTIME_API"))
            .collect();
        assert_eq!(lines.len(), 1, "{bad}: {stderr}");
        assert!(lines[0].contains(&format!("{bad:?}")), "{}", lines[0]);
    }
}

#[test]
fn aws_lambda_events_types_work_as_event_and_response() {
    let f = Function::emulated(&example("sqs"), &[], &[]);
    let event = json!({"Records": [
        {"messageId": "m-1", "body": "{\"ok\":true}", "attributes": {}, "messageAttributes": {}},
        {"messageId": "m-2", "body": "not json", "attributes": {}, "messageAttributes": {}}
    ]});
    let r = f.invoke(event.to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", f.output());
    assert_eq!(
        r.expect_json(),
        json!({"batchItemFailures": [{"itemIdentifier": "m-2"}]})
    );
}

/// One chunk of a chunked request body, or its trailers, with the time it arrived.
#[derive(Debug)]
enum Piece {
    Chunk(String, Instant),
    Trailers(String),
}

impl ScriptedApi {
    /// Reads a chunked request body to its end.
    fn chunked_body(&mut self) -> Vec<Piece> {
        use std::io::{BufRead, Read};
        let conn = self.conn.as_mut().unwrap();
        let mut pieces = Vec::new();
        loop {
            let mut size = String::new();
            conn.read_line(&mut size).unwrap();
            let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
            if size == 0 {
                let mut trailers = String::new();
                loop {
                    let mut line = String::new();
                    conn.read_line(&mut line).unwrap();
                    if line == "\r\n" {
                        break;
                    }
                    trailers.push_str(&line);
                }
                if !trailers.is_empty() {
                    pieces.push(Piece::Trailers(trailers));
                }
                return pieces;
            }
            let mut data = vec![0; size + 2];
            conn.read_exact(&mut data).unwrap();
            data.truncate(size);
            pieces.push(Piece::Chunk(
                String::from_utf8(data).unwrap(),
                Instant::now(),
            ));
        }
    }

    /// Hands out one event and reads the streamed `/response` that answers it.
    fn stream_of(&mut self, event: &str) -> (String, Vec<Piece>) {
        self.expect_next();
        self.answer(&format!(
            "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: s1\r\nLambda-Runtime-Deadline-Ms: 99999999999999\r\nContent-Length: {}\r\n\r\n{event}",
            event.len()
        ));
        let (head, _) = self.request_head();
        let pieces = self.chunked_body();
        (head, pieces)
    }

    /// The next request's head only (its body is read by the caller).
    fn request_head(&mut self) -> (String, ()) {
        use std::io::BufRead;
        let conn = self.conn.as_mut().unwrap();
        let mut head = String::new();
        loop {
            let mut line = String::new();
            conn.read_line(&mut line).unwrap();
            head.push_str(&line);
            if line == "\r\n" || line.is_empty() {
                return (head, ());
            }
        }
    }
}

#[test]
fn streamed_chunks_reach_the_api_as_they_are_written() {
    let mut api = ScriptedApi::start(&example("stream"));
    let (head, pieces) = api.stream_of(r#"{"prompt": "first second", "delay_ms": 500}"#);
    let lower = head.to_ascii_lowercase();
    assert!(
        head.starts_with("POST /2018-06-01/runtime/invocation/s1/response HTTP/1.1"),
        "{head}"
    );
    assert!(
        lower.contains("lambda-runtime-function-response-mode: streaming"),
        "{head}"
    );
    assert!(lower.contains("transfer-encoding: chunked"), "{head}");
    let [Piece::Chunk(first, t1), Piece::Chunk(second, t2)] = &pieces[..] else {
        panic!("two chunks and no trailers: {pieces:?}")
    };
    assert_eq!((first.as_str(), second.as_str()), ("first ", "second "));
    // The first chunk was here while the handler still slept before writing the second.
    assert!(
        t2.duration_since(*t1) >= Duration::from_millis(400),
        "{:?} apart",
        t2.duration_since(*t1)
    );
    api.answer("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
    api.expect_next();
    let _ = api.function.kill();
}

#[test]
fn a_stream_that_fails_after_two_chunks_ends_with_error_trailers() {
    let mut api = ScriptedApi::start(&example("stream"));
    let (head, pieces) = api.stream_of(r#"{"prompt": "a b c d", "delay_ms": 1, "fail_after": 2}"#);
    assert!(head.to_ascii_lowercase().contains("trailer: "), "{head}");
    let [
        Piece::Chunk(a, _),
        Piece::Chunk(b, _),
        Piece::Trailers(trailers),
    ] = &pieces[..]
    else {
        panic!("two chunks, then trailers: {pieces:?}")
    };
    assert_eq!((a.as_str(), b.as_str()), ("a ", "b "));
    let lower = trailers.to_ascii_lowercase();
    assert!(
        lower.contains("lambda-runtime-function-error-type: tokenlimit\r\n"),
        "{trailers}"
    );
    let body = trailers
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("lambda-runtime-function-error-body:")
                .then(|| l.split_once(':').unwrap().1.trim().to_owned())
        })
        .expect("an error body trailer");
    let decoded: Value = serde_json::from_slice(&base64_decode(&body)).unwrap();
    assert_eq!(decoded["errorType"], "TokenLimit");
    assert_eq!(decoded["errorMessage"], "stopped after 2 tokens");
    api.answer("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
    api.expect_next();
    let _ = api.function.kill();
}

#[test]
fn a_stream_event_that_does_not_decode_is_a_plain_error() {
    let mut api = ScriptedApi::start(&example("stream"));
    api.expect_next();
    api.answer("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: s1\r\nLambda-Runtime-Deadline-Ms: 99999999999999\r\nContent-Length: 2\r\n\r\n{}");
    let (head, body) = api.request();
    assert!(
        head.starts_with("POST /2018-06-01/runtime/invocation/s1/error HTTP/1.1"),
        "{head}"
    );
    assert!(body.contains("Runtime.UnmarshalError"), "{body}");
    let _ = api.function.kill();
}

fn base64_decode(text: &str) -> Vec<u8> {
    let digit = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    } as u32;
    let mut out = Vec::new();
    for chunk in text.trim_end_matches('=').as_bytes().chunks(4) {
        let acc = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &c)| acc | digit(c) << (18 - 6 * i));
        out.extend_from_slice(&acc.to_be_bytes()[1..chunk.len()]);
    }
    out
}
