//! HTTP functions end to end: the `http_axum` example (an axum `Router` handed to
//! `faas_runtime::run_http` as it is) under `faas-emulator`, invoked with real API Gateway REST
//! and HTTP API, ALB and function URL events (`runtime/tests/data/http/`), and streamed
//! (`HTTP_STREAMING=1`) through `InvokeWithResponseStream`, where the server-sent events must
//! reach the caller one by one behind the HTTP integration prelude; and the same binary in
//! local mode.

use std::time::{Duration, Instant};

use faas_checks::event_stream::Stream;
use faas_checks::fixture::{Function, example};
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

#[test]
fn in_local_mode_the_same_binary_answers_the_same_events() {
    let f = Function::local(&example("http_axum"), &[]);
    let a = invoke(&f, &rest("GET", "/pets/1"));
    assert_eq!(a["statusCode"], 200, "{a}");
    assert_eq!(body_json(&a)["name"], "Rex");
    let a = invoke(
        &f,
        &http_api("lambda_function_url_request.json", "GET", "/logo.png", ""),
    );
    assert_eq!(a["body"], LOGO_BASE64);
}
