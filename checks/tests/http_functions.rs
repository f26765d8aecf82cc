//! HTTP functions end to end: the `http_axum` example (an axum `Router` handed to
//! `faas_runtime::run_http` as it is) under `faas-emulator`, invoked with real API Gateway REST
//! and HTTP API, ALB and function URL events (`runtime/tests/data/http/`), and streamed
//! (`HTTP_STREAMING=1`) through `InvokeWithResponseStream`, where the server-sent events must
//! reach the caller one by one behind the HTTP integration prelude; and the same binary outside
//! Lambda (local HTTP mode), serving plain HTTP on `$PORT` as Knative runs it: routes, cookies,
//! binary bodies, keep-alive, a streamed route chunk by chunk, SIGTERM during a request.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faas_checks::event_stream::Stream;
use faas_checks::fixture::{Function, example, together};
use faas_checks::http::{self, Response, Session};
use serde_json::{Value, json};

/// Base64 of the example's 1x1 PNG (`runtime/examples/http_axum.rs`, `LOGO`).
const LOGO_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==";

/// A fixture of `runtime/tests/data/http/` as JSON.
fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../runtime/tests/data/http/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_slice(&text).unwrap()
}

/// A REST API event (the AWS documentation's) for `method path`.
fn rest(method: &str, path: &str) -> Value {
    let mut event = fixture("example-apigw-request.json");
    event["httpMethod"] = json!(method);
    event["path"] = json!(path);
    event["requestContext"]["path"] = json!(path);
    event["body"] = Value::Null;
    event
}

/// An HTTP API event for `method path?query`.
fn http_api(fixture_name: &str, method: &str, path: &str, query: &str) -> Value {
    let mut event = fixture(fixture_name);
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event
}

/// An ALB event for `GET path`, with multi-value headers on or off.
fn alb(path: &str, multi_value: bool) -> Value {
    let name = if multi_value {
        "alb_multi_value_request.json"
    } else {
        "alb_request.json"
    };
    let mut event = fixture(name);
    event["path"] = json!(path);
    event
}

fn invoke(f: &Function, event: &Value) -> Value {
    let answer = f.invoke(event.to_string().as_bytes());
    assert_eq!(answer.status, 200, "{}", answer.body_excerpt());
    assert_eq!(
        answer.header("x-amz-function-error"),
        None,
        "{}",
        answer.body_excerpt()
    );
    answer.expect_json()
}

fn body_json(answer: &Value) -> Value {
    assert_eq!(answer["isBase64Encoded"], false, "{answer}");
    serde_json::from_str(answer["body"].as_str().unwrap()).unwrap()
}

#[test]
fn rest_api_events_get_rest_api_responses() {
    let f = Function::emulated(&example("http_axum"), &[], &[]);
    let a = invoke(&f, &rest("GET", "/pets/1"));
    assert_eq!(a["statusCode"], 200, "{a}");
    assert_eq!(
        a["multiValueHeaders"]["content-type"],
        json!(["application/json"])
    );
    assert!(a.get("headers").is_none(), "only multiValueHeaders: {a}");
    assert_eq!(
        body_json(&a),
        json!({"id": 1, "name": "Rex", "kind": "dog"})
    );
    // The error status of the app reaches the caller, with its JSON.
    let a = invoke(&f, &rest("GET", "/pets/9"));
    assert_eq!(a["statusCode"], 404, "{a}");
    assert_eq!(body_json(&a), json!({"error": "no pet 9"}));
    // What the service saw: the client's path and every query value.
    let a = invoke(&f, &rest("GET", "/whoami"));
    let seen = body_json(&a);
    assert_eq!(seen["path"], "/whoami");
    assert_eq!(seen["query"], "name=me");
    assert_eq!(seen["source"], "ApiGatewayV1");
    assert_eq!(
        seen["uri"],
        "https://gy415nuibc.execute-api.us-east-1.amazonaws.com/whoami?name=me"
    );
}

#[test]
fn http_api_events_json_in_and_out_with_cookies() {
    let f = Function::emulated(&example("http_axum"), &[], &[]);
    let mut event = http_api("apigw_v2_proxy_request.json", "POST", "/pets", "");
    event["body"] = json!(r#"{"name": "Tom", "kind": "cat"}"#);
    event["headers"]["content-type"] = json!("application/json");
    let a = invoke(&f, &event);
    assert_eq!(a["statusCode"], 201, "{a}");
    assert_eq!(a["headers"]["content-type"], "application/json");
    // Both Set-Cookie headers, in `cookies`, none left in `headers`.
    assert_eq!(
        a["cookies"],
        json!(["last_pet=Tom; Path=/; HttpOnly", "visited=1; Path=/"])
    );
    assert!(a["headers"].get("set-cookie").is_none(), "{a}");
    assert_eq!(
        body_json(&a),
        json!({"id": 2, "name": "Tom", "kind": "cat"})
    );
    // The request as the service saw it: cookies as one header, rawQueryString verbatim.
    let event = http_api(
        "apigw_v2_proxy_request.json",
        "GET",
        "/whoami",
        "b=2&a=1&a=%2F",
    );
    let seen = body_json(&invoke(&f, &event));
    assert_eq!(seen["cookie"], json!(["cookie1=value1; cookie2=value2"]));
    assert_eq!(seen["query"], "b=2&a=1&a=%2F");
    assert_eq!(seen["source"], "ApiGatewayV2");
    assert!(!seen["request_id"].as_str().unwrap().is_empty());
    // Through a custom domain mapped to stage `prod`, the stage API Gateway put in rawPath goes.
    let mut event = fixture("apigw_v2_custom_domain_named_stage.json");
    event["rawPath"] = json!("/prod/whoami");
    let seen = body_json(&invoke(&f, &event));
    assert_eq!(
        seen["uri"],
        "https://api.example.com/whoami?fields=name&fields=age&note=a%20b"
    );
}

#[test]
fn alb_events_get_the_status_description_and_their_header_mode() {
    let f = Function::emulated(&example("http_axum"), &[], &[]);
    let a = invoke(&f, &alb("/pets/9", false));
    assert_eq!(a["statusCode"], 404, "{a}");
    assert_eq!(a["statusDescription"], "404 Not Found");
    assert_eq!(a["headers"]["content-type"], "application/json");
    assert!(a.get("multiValueHeaders").is_none(), "{a}");
    let a = invoke(&f, &alb("/whoami", true));
    assert_eq!(a["statusDescription"], "200 OK");
    assert_eq!(
        a["multiValueHeaders"]["content-type"],
        json!(["application/json"])
    );
    let seen = body_json(&a);
    // Multi-value mode: both cookies of the event reach the service.
    assert_eq!(seen["cookie"], json!(["name1=value1", "name2=value2"]));
    assert_eq!(
        seen["query"],
        "myKey=val1&myKey=val2&myOtherKey=val3&myOtherKey=val4"
    );
    assert_eq!(seen["source"], "Alb");
}

#[test]
fn function_url_binary_bodies_bad_requests_and_foreign_events() {
    let f = Function::emulated(&example("http_axum"), &[], &[]);
    let event = http_api("lambda_function_url_request.json", "GET", "/logo.png", "");
    let a = invoke(&f, &event);
    assert_eq!(a["statusCode"], 200, "{a}");
    assert_eq!(a["headers"]["content-type"], "image/png");
    assert_eq!(a["isBase64Encoded"], true);
    assert_eq!(a["body"], LOGO_BASE64);
    let event = http_api("lambda_function_url_request.json", "GET", "/hello", "");
    let a = invoke(&f, &event);
    assert_eq!(a["body"], "Hello from axum on Lambda\n");
    assert_eq!(a["isBase64Encoded"], false);
    // A body marked base64 that is not: a 400 for the caller, and the function lives on.
    let mut event = http_api("lambda_function_url_request.json", "POST", "/pets", "");
    event["body"] = json!("*not base64*");
    event["isBase64Encoded"] = json!(true);
    let a = invoke(&f, &event);
    assert_eq!(a["statusCode"], 400, "{a}");
    assert!(a["body"].as_str().unwrap().contains("base64"), "{a}");
    // An event of no HTTP source: the invocation fails with a message, the function lives on.
    let answer = f.invoke(br#"{"Records": [{"eventSource": "aws:sqs"}]}"#);
    answer.expect_function_error("Runtime.UnmarshalError");
    let a = invoke(
        &f,
        &http_api("lambda_function_url_request.json", "GET", "/pets/1", ""),
    );
    assert_eq!(a["statusCode"], 200, "{a}");
}

/// The payloads of an `InvokeWithResponseStream` answer's `PayloadChunk` messages, each with
/// the time it arrived, and the answer's head.
fn stream_payloads(addr: &str, event: &str) -> (String, Vec<(Vec<u8>, Instant)>) {
    let stream = Stream::open(addr, event);
    assert!(
        stream
            .head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{}",
        stream.head
    );
    let head = stream.head.clone();
    let payloads = stream
        .messages()
        .into_iter()
        .filter(|m| m.event_type == "PayloadChunk")
        .map(|m| (m.payload, m.at))
        .collect();
    (head, payloads)
}

#[test]
fn a_streamed_route_sends_the_prelude_then_each_event_as_it_is_written() {
    let f = Function::emulated(&example("http_axum"), &[("HTTP_STREAMING", "1")], &[]);
    let event = http_api(
        "lambda_function_url_request.json",
        "GET",
        "/events",
        "gap_ms=400&count=3",
    );
    let (head, payloads) = stream_payloads(&f.invoke_addr, &event.to_string());
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/vnd.awslambda.http-integration-response"),
        "{head}"
    );
    let bytes: Vec<u8> = payloads.iter().flat_map(|(p, _)| p.clone()).collect();
    let end = bytes
        .windows(8)
        .position(|w| w == [0u8; 8])
        .expect("eight NULs after the prelude");
    let prelude: Value = serde_json::from_slice(&bytes[..end]).unwrap();
    assert_eq!(prelude["statusCode"], 200, "{prelude}");
    assert_eq!(
        prelude["headers"]["content-type"], "text/event-stream",
        "{prelude}"
    );
    let body = String::from_utf8(bytes[end + 8..].to_vec()).unwrap();
    assert_eq!(
        body,
        "event: tick\ndata: 0\n\nevent: tick\ndata: 1\n\nevent: tick\ndata: 2\n\n"
    );
    // Each event arrived on its own, about 400 ms after the one before (generous bound).
    let arrivals: Vec<Instant> = payloads
        .iter()
        .filter(|(p, _)| p.starts_with(b"event: tick"))
        .map(|(_, at)| *at)
        .collect();
    assert_eq!(arrivals.len(), 3, "one chunk per event: {payloads:?}");
    for pair in arrivals.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap >= Duration::from_millis(250),
            "events only {gap:?} apart"
        );
    }
}

/// The example's `/logo.png` (`runtime/examples/http_axum/app.rs`, `LOGO`).
const LOGO: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\xdac\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";

/// The example started as Knative starts a container: no `AWS_LAMBDA_RUNTIME_API`, `PORT` set;
/// ready once its port takes a TCP connection (Knative's default readiness probe).
struct OnPort {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl OnPort {
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        get(&self.addr, path, headers)
    }

    fn start(env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log =
            std::env::temp_dir().join(format!("http-on-port-{}-{port}.log", std::process::id()));
        let child = Command::new(example("http_axum"))
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .env_remove("FAAS_LISTEN")
            .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
            .env("PORT", port.to_string())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let mut started = Self { child, addr, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&started.addr).is_err() {
            assert!(
                Instant::now() < deadline && started.child.try_wait().unwrap().is_none(),
                "not listening on $PORT: {}",
                started.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        started
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn terminate(&self) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
    }

    fn wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for OnPort {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A loopback port nobody listens on (free when asked; taken by whoever binds it next).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    http::request(addr, "GET", path, headers, b"", Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

#[test]
fn outside_lambda_the_binary_serves_plain_http_on_port_as_a_function_url_would() {
    let f = OnPort::start(&[]);
    plain_http_answers_as_a_function_url(&f.addr);
}

/// The example's routes over plain HTTP at `addr`, as a function URL client sees them.
fn plain_http_answers_as_a_function_url(addr: &str) {
    let f = Plain(addr);
    let hello = f.get("/hello", &[]);
    assert_eq!(hello.status, 200);
    assert_eq!(hello.body, b"Hello from axum on Lambda\n");
    let pet = f.get("/pets/1", &[]);
    assert_eq!(pet.status, 200);
    assert_eq!(pet.header("content-type"), Some("application/json"));
    assert_eq!(pet.expect_json()["name"], "Rex");
    // The app's own 404, and the router's for an unknown route.
    let missing = f.get("/pets/2", &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.expect_json()["error"], "no pet 2");
    assert_eq!(f.get("/nowhere", &[]).status, 404);
    // JSON in, 201 out, both cookies as separate Set-Cookie headers.
    let added = http::request(
        addr,
        "POST",
        "/pets",
        &[],
        br#"{"name":"Tom","kind":"cat"}"#,
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(added.status, 201, "{}", added.body_excerpt());
    assert_eq!(added.expect_json()["name"], "Tom");
    let cookies: Vec<&str> = added
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        cookies,
        ["last_pet=Tom; Path=/; HttpOnly", "visited=1; Path=/"]
    );
    // A binary body arrives as the bytes the service wrote.
    let logo = f.get("/logo.png", &[]);
    assert_eq!(logo.header("content-type"), Some("image/png"));
    assert_eq!(logo.body, LOGO);
    // What the service saw: the request as a function URL event carries it (cookies back in
    // one Cookie header, the query verbatim, the source a function URL, a request id).
    let seen = f
        .get(
            "/whoami?b=2&a=%20x&a=y",
            &[("cookie", "session=abc; theme=dark")],
        )
        .expect_json();
    assert_eq!(seen["method"], "GET", "{seen}");
    assert_eq!(seen["path"], "/whoami", "{seen}");
    assert_eq!(seen["query"], "b=2&a=%20x&a=y", "{seen}");
    assert_eq!(seen["cookie"], json!(["session=abc; theme=dark"]), "{seen}");
    assert_eq!(seen["source"], "FunctionUrl", "{seen}");
    assert_eq!(
        seen["request_id"].as_str().map(str::len),
        Some(36),
        "{seen}"
    );
}

/// A plain HTTP address to GET from.
struct Plain<'a>(&'a str);

impl Plain<'_> {
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        get(self.0, path, headers)
    }
}

/// `faas-emulator --http` in front of the example; the address of its plain HTTP port.
fn fronted(env: &[(&str, &str)]) -> (Function, String) {
    fronted_example("http_axum", env)
}

/// `faas-emulator --http` in front of `name`; the address of its plain HTTP port.
fn fronted_example(name: &str, env: &[(&str, &str)]) -> (Function, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let f = Function::emulated(&example(name), env, &["--http", &addr]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "no --http port: {}", f.output());
        std::thread::sleep(Duration::from_millis(20));
    }
    (f, addr)
}

#[test]
fn the_emulators_http_port_fronts_the_function_as_a_function_url_would() {
    let (f, addr) = fronted(&[]);
    plain_http_answers_as_a_function_url(&addr);
    // Each request went through the normal invoke path: the function process ran it.
    assert!(f.output().contains("REPORT RequestId:"), "{}", f.output());
}

#[test]
fn the_emulators_http_port_answers_as_function_urls_for_other_functions() {
    // A failed invocation (a panic) is a 502, as a function URL answers it; the port lives on.
    let (_f, addr) = fronted_example("panic", &[]);
    let failed = get(&addr, "/anything", &[]);
    assert_eq!(failed.status, 502, "{}", failed.body_excerpt());
    assert_eq!(get(&addr, "/again", &[]).status, 502);
    // An answer that is no response object is the body, as function URLs infer it: the echo
    // function answers the event itself, which shows what a function receives.
    let (_f, addr) = fronted_example("echo", &[]);
    let echoed = get(&addr, "/a/b?x=1", &[("cookie", "k=v")]);
    assert_eq!(echoed.status, 200, "{}", echoed.body_excerpt());
    assert_eq!(echoed.header("content-type"), Some("application/json"));
    let event = echoed.expect_json();
    assert_eq!(event["version"], "2.0", "{event}");
    assert_eq!(event["rawPath"], "/a/b", "{event}");
    assert_eq!(event["rawQueryString"], "x=1", "{event}");
    assert_eq!(event["cookies"], json!(["k=v"]), "{event}");
    assert_eq!(event["requestContext"]["http"]["method"], "GET", "{event}");
    let domain = event["requestContext"]["domainName"].as_str().unwrap_or("");
    assert!(domain.contains(".lambda-url."), "{event}");
}

#[test]
fn the_emulators_http_port_relays_a_streamed_answer_chunk_by_chunk() {
    let (_f, addr) = fronted(&[("HTTP_STREAMING", "1")]);
    events_arrive_as_written(&get_timed(&addr, "/events?gap_ms=400&count=3"));
    // A streamed route that is not found: the prelude's 404 is the client's status.
    let missing = get(&addr, "/nowhere", &[]);
    assert_eq!(missing.status, 404);
}

#[test]
fn on_port_an_oversized_body_gets_413_and_the_next_request_its_answer() {
    let f = OnPort::start(&[]);
    let big = vec![b'x'; 7 * 1024 * 1024];
    let r = http::request(&f.addr, "POST", "/pets", &[], &big, Duration::from_secs(60)).unwrap();
    assert_eq!(r.status, 413, "{}", r.body_excerpt());
    assert_eq!(f.get("/pets/1", &[]).status, 200);
}

#[test]
fn an_http_functions_help_describes_plain_http_serving() {
    let out = Command::new(example("http_axum"))
        .arg("--help")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("serves plain HTTP") && text.contains("PORT"),
        "{text}"
    );
}

#[test]
fn on_port_one_keep_alive_connection_serves_many_requests() {
    let f = OnPort::start(&[]);
    let mut session = Session::new(&f.addr).unwrap();
    for i in 0..5 {
        let body = format!(r#"{{"name":"pet{i}","kind":"cat"}}"#);
        let r = session
            .post("/pets", body.as_bytes(), Duration::from_secs(30))
            .unwrap();
        assert_eq!(r.status, 201, "{}", r.body_excerpt());
        assert_eq!(r.expect_json()["name"], format!("pet{i}"));
    }
    assert_eq!(
        session.connections, 1,
        "the server closed a keep-alive connection"
    );
}

/// Sends `GET path` on a raw connection and returns the answer's bytes, each read with the
/// time it arrived.
fn get_timed(addr: &str, path: &str) -> Vec<(Vec<u8>, Instant)> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reads = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return reads,
            Ok(n) => reads.push((buffer[..n].to_vec(), Instant::now())),
            Err(e) => panic!("reading the answer: {e}"),
        }
    }
}

/// When each of `needles` first appeared in `reads`.
fn arrivals(reads: &[(Vec<u8>, Instant)], needles: &[&str]) -> Vec<Instant> {
    let mut so_far = Vec::new();
    let prefixes: Vec<(String, Instant)> = reads
        .iter()
        .map(|(bytes, at)| {
            so_far.extend_from_slice(bytes);
            (String::from_utf8_lossy(&so_far).into_owned(), *at)
        })
        .collect();
    needles
        .iter()
        .map(|needle| {
            let first = prefixes.iter().find(|(text, _)| text.contains(needle));
            first
                .unwrap_or_else(|| panic!("{needle:?} never arrived"))
                .1
        })
        .collect()
}

#[test]
fn on_port_a_streamed_function_sends_each_event_as_it_is_written() {
    let f = OnPort::start(&[("HTTP_STREAMING", "1")]);
    let text = events_arrive_as_written(&get_timed(&f.addr, "/events?gap_ms=400&count=3"));
    assert!(text.contains("transfer-encoding: chunked"), "{text}");
}

/// Checks the raw answer to `/events?gap_ms=400&count=3`: a `200` event stream, no prelude
/// bytes in it, its three events arriving at least 250 ms apart. Its text, lowercased.
fn events_arrive_as_written(reads: &[(Vec<u8>, Instant)]) -> String {
    let all: Vec<u8> = reads.iter().flat_map(|(b, _)| b.clone()).collect();
    let text = String::from_utf8_lossy(&all).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(text.contains("content-type: text/event-stream"), "{text}");
    assert!(
        !text.contains("\0"),
        "the prelude leaked into the body: {text:?}"
    );
    let at = arrivals(reads, &["data: 0\n", "data: 1\n", "data: 2\n"]);
    for pair in at.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(250),
            "events only {gap:?} apart: {text}"
        );
    }
    text
}

#[test]
fn on_port_sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    sigterm_drains(&[], 1);
}

/// `n` requests in flight (each a buffered answer that takes about 1.2 s to produce), SIGTERM
/// 0.4 s in: each gets its whole answer, then the process exits 0 and the port is closed.
fn sigterm_drains(env: &[(&str, &str)], n: usize) {
    let mut f = OnPort::start(env);
    let requests: Vec<_> = (0..n)
        .map(|_| {
            let addr = f.addr.clone();
            std::thread::spawn(move || {
                http::request(
                    &addr,
                    "GET",
                    "/events?gap_ms=600&count=3",
                    &[],
                    b"",
                    Duration::from_secs(30),
                )
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    f.terminate();
    for request in requests {
        let answer = request
            .join()
            .unwrap()
            .expect("each request in flight is answered");
        assert_eq!(answer.status, 200, "{}", answer.body_excerpt());
        let body = String::from_utf8_lossy(&answer.body);
        assert_eq!(body.matches("event: tick").count(), 3, "{body}");
    }
    let status = f
        .wait(Duration::from_secs(10))
        .expect("exits after the drain");
    assert_eq!(status.code(), Some(0), "{}", f.output());
    assert!(TcpStream::connect(&f.addr).is_err(), "still listening");
}

/// `GET` of a buffered answer that takes about a second to produce (two events 1 s apart).
const ONE_SECOND: &str = "/events?gap_ms=1000&count=2";

/// `n` requests for `path` at once; how long they took together. Each is answered in full.
fn get_together(f: &OnPort, n: usize, path: &str, ticks: usize) -> Duration {
    let start = Instant::now();
    together(n, |_| {
        let r = f.get(path, &[]);
        assert_eq!(r.status, 200, "{}\n{}", r.body_excerpt(), f.output());
        let body = String::from_utf8_lossy(&r.body);
        assert_eq!(body.matches("event: tick").count(), ticks, "{body}");
    });
    start.elapsed()
}

#[test]
fn on_port_max_concurrency_n_serves_n_requests_at_once() {
    let f = OnPort::start(&[("AWS_LAMBDA_MAX_CONCURRENCY", "4")]);
    let elapsed = get_together(&f, 4, ONE_SECOND, 2);
    // One at a time would take 4 s; together, about 1. The bound is generous (a loaded CI VM).
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(2_500),
        "4 requests of 1 s took {elapsed:?} with AWS_LAMBDA_MAX_CONCURRENCY=4: not at once\n{}",
        f.output()
    );
}

#[test]
fn on_port_without_max_concurrency_requests_run_one_at_a_time() {
    let f = OnPort::start(&[]);
    let elapsed = get_together(&f, 3, "/events?gap_ms=400&count=2", 2);
    assert!(
        elapsed >= Duration::from_millis(1_150),
        "3 requests of 400 ms overlapped in {elapsed:?} without AWS_LAMBDA_MAX_CONCURRENCY"
    );
}

/// Hundreds of requests from 12 callers with 4 at once, quick ones and ones that wait between
/// events (so invocations interleave): each answer is its own request's (its query, a request
/// id no other request got), and the runtime's log line for each, written after the handler's
/// awaits, carries that request's own id: the id travels with its invocation, not process-wide.
#[test]
fn on_port_requests_at_once_each_get_their_own_answer_and_request_id() {
    let f = OnPort::start(&[
        ("AWS_LAMBDA_MAX_CONCURRENCY", "4"),
        ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
    ]);
    let (quick, slow, calls) = (8, 4, 25);
    let answers: Vec<(String, Option<String>)> = together(quick + slow, |c| {
        (0..calls)
            .map(|i| {
                if c < quick {
                    let uri = format!("/whoami?caller={c}&call={i}");
                    let seen = f.get(&uri, &[]).expect_json();
                    let asked = format!(
                        "{}?{}",
                        seen["path"].as_str().unwrap_or_default(),
                        seen["query"].as_str().unwrap_or_default()
                    );
                    assert_eq!(asked, uri, "another request's answer: {seen}");
                    let id = seen["request_id"].as_str().expect("a request id");
                    (uri, Some(id.to_owned()))
                } else {
                    let uri = format!("/events?gap_ms=15&count=3&caller={c}&call={i}");
                    let r = f.get(&uri, &[]);
                    assert_eq!(r.status, 200, "{}", r.body_excerpt());
                    assert_eq!(
                        String::from_utf8_lossy(&r.body)
                            .matches("event: tick")
                            .count(),
                        3
                    );
                    (uri, None)
                }
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let total = (quick + slow) * calls;
    let ids: HashSet<&String> = answers.iter().filter_map(|(_, id)| id.as_ref()).collect();
    assert_eq!(
        ids.len(),
        quick * calls,
        "a request id answered two requests"
    );
    // The log line of each request (text format: time, request id, level, message).
    let deadline = Instant::now() + Duration::from_secs(20);
    let logged: HashMap<String, String> = loop {
        let output = f.output();
        let logged: HashMap<String, String> = output
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.splitn(4, '\t').collect();
                let uri = fields.get(3)?.strip_prefix("answered GET ")?;
                Some((uri.to_owned(), fields[1].to_owned()))
            })
            .collect();
        if logged.len() >= total || Instant::now() > deadline {
            break logged;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(logged.len(), total, "{}", f.output());
    let distinct: HashSet<&String> = logged.values().collect();
    assert_eq!(distinct.len(), total, "two requests' lines carry one id");
    for (uri, id) in &answers {
        let line_id = &logged[uri];
        assert_eq!(line_id.len(), 36, "{uri}: {line_id:?}");
        if let Some(id) = id {
            assert_eq!(line_id, id, "{uri}: the line carries another request's id");
        }
    }
}

#[test]
fn on_port_sigterm_lets_all_n_requests_in_flight_finish_then_exits_0() {
    sigterm_drains(&[("AWS_LAMBDA_MAX_CONCURRENCY", "4")], 4);
}
