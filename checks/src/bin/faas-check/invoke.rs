//! `faas-check invoke`: the invocation suite against a live local-mode endpoint (the
//! default `hello` bootstrap, or with `--panic` the `panic` example), as a caller
//! sees it through the published port. `--wait SECONDS` first waits for the endpoint
//! to answer at all (a container that was just started).

use std::time::Duration;

use serde_json::{Value, json};

use crate::Outcome;
use crate::args::Args;
use crate::engine::{self, INVOKE_PATH};
use faas_checks::http::{self, Response};

use faas_runtime::protocol::MAX_PAYLOAD as MAX_EVENT_BYTES;

const TIMEOUT: Duration = Duration::from_secs(30);

/// One named case: what it sends and what it asserts.
struct Case {
    name: &'static str,
    run: fn(&str) -> Result<(), String>,
}

const HELLO_CASES: &[Case] = &[
    Case {
        name: "success_returns_greeting",
        run: success_returns_greeting,
    },
    Case {
        name: "unicode_name_round_trips",
        run: unicode_name_round_trips,
    },
    Case {
        name: "handler_error_is_reported",
        run: handler_error_is_reported,
    },
    Case {
        name: "invalid_json_is_unmarshal_error",
        run: invalid_json_is_unmarshal_error,
    },
    Case {
        name: "oversized_event_gets_413",
        run: oversized_event_gets_413,
    },
    Case {
        name: "runtime_still_answers_after_errors",
        run: success_returns_greeting,
    },
];

const PANIC_CASES: &[Case] = &[
    Case {
        name: "panic_is_reported_to_caller",
        run: panic_is_reported_to_caller,
    },
    Case {
        name: "runtime_survives_a_panic",
        run: panic_is_reported_to_caller,
    },
    Case {
        name: "oversized_event_gets_413",
        run: oversized_event_gets_413,
    },
];

/// Runs `faas-check invoke`.
pub fn run(argv: &[String]) -> Result<Outcome, String> {
    let args = Args::parse(argv, &["panic"], &["url", "wait"])?;
    let url = args
        .value("url")
        .ok_or("--url http://HOST:PORT is required")?;
    let (addr, _) = http::split_url(url)?;
    // A container that was just started may need a moment before it answers.
    let wait: u64 = args.parsed("wait", 0)?;
    if wait > 0 {
        engine::wait_answer(&addr, br#"{"name":"ready"}"#, Duration::from_secs(wait))?;
    }
    let cases = if args.flag("panic") {
        PANIC_CASES
    } else {
        HELLO_CASES
    };
    let (mut passed, mut failed) = (0, 0);
    for case in cases {
        match (case.run)(&addr) {
            Ok(()) => {
                passed += 1;
                println!("PASS {}", case.name);
            }
            Err(why) => {
                failed += 1;
                println!("FAIL {}: {why}", case.name);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        Outcome::Pass
    } else {
        Outcome::Fail
    })
}

fn invoke(addr: &str, body: &[u8]) -> Result<Response, String> {
    http::post(addr, INVOKE_PATH, body, TIMEOUT)
}

/// A 200 without X-Amz-Function-Error whose body is `{"message": expected}`.
fn expect_message(r: &Response, expected: &str) -> Result<(), String> {
    if r.status != 200 || r.header("x-amz-function-error").is_some() {
        return Err(format!(
            "want a plain 200, got {} {}",
            r.status,
            r.body_excerpt()
        ));
    }
    let body = r
        .json()
        .ok_or_else(|| format!("body is not JSON: {}", r.body_excerpt()))?;
    if body["message"] != expected {
        return Err(format!("want message {expected:?}, got {body}"));
    }
    Ok(())
}

/// `status` with X-Amz-Function-Error (unless 413) and an error body of `error_type`.
fn expect_error(r: &Response, status: u16, error_type: &str) -> Result<Value, String> {
    if r.status != status {
        return Err(format!(
            "want status {status}, got {} {}",
            r.status,
            r.body_excerpt()
        ));
    }
    if status == 200 && r.header("x-amz-function-error").is_none() {
        return Err("no X-Amz-Function-Error header".into());
    }
    let body = r
        .json()
        .ok_or_else(|| format!("body is not JSON: {}", r.body_excerpt()))?;
    if body["errorType"] != error_type {
        return Err(format!("want errorType {error_type}, got {body}"));
    }
    if !body["errorMessage"].is_string() {
        return Err(format!("errorMessage is not a string: {body}"));
    }
    Ok(body)
}

fn success_returns_greeting(addr: &str) -> Result<(), String> {
    let r = invoke(addr, json!({"name": "Ada"}).to_string().as_bytes())?;
    expect_message(&r, "Hello, Ada!")
}

fn unicode_name_round_trips(addr: &str) -> Result<(), String> {
    let name = "Zoë Ωμέγα 世界 🚀";
    let r = invoke(addr, json!({ "name": name }).to_string().as_bytes())?;
    expect_message(&r, &format!("Hello, {name}!"))
}

fn handler_error_is_reported(addr: &str) -> Result<(), String> {
    let r = invoke(addr, br#"{"name":""}"#)?;
    let body = expect_error(&r, 200, "EmptyName")?;
    if !body["stackTrace"].is_array() {
        return Err(format!("stackTrace is not an array: {body}"));
    }
    Ok(())
}

fn invalid_json_is_unmarshal_error(addr: &str) -> Result<(), String> {
    let r = invoke(addr, br#"{"name": "Ada""#)?;
    expect_error(&r, 200, "Runtime.UnmarshalError").map(drop)
}

fn oversized_event_gets_413(addr: &str) -> Result<(), String> {
    // A syntactically valid event one byte over the limit.
    let filler = MAX_EVENT_BYTES + 1 - br#"{"name":""}"#.len();
    let body = format!(r#"{{"name":"{}"}}"#, "a".repeat(filler));
    debug_assert_eq!(body.len(), MAX_EVENT_BYTES + 1);
    let r = invoke(addr, body.as_bytes())?;
    expect_error(&r, 413, "RequestEntityTooLargeException").map(drop)
}

fn panic_is_reported_to_caller(addr: &str) -> Result<(), String> {
    let r = invoke(addr, br#"{"name":"Ada"}"#)?;
    let body = expect_error(&r, 200, "Runtime.Panic")?;
    match body["errorMessage"].as_str() {
        Some(m) if !m.is_empty() => Ok(()),
        _ => Err(format!("empty panic message: {body}")),
    }
}
