//! Conformance: AWS's Python runtime interface client (`awslambdaric`) under our emulator.
//! Its responses and its error format must come through exactly as Lambda would deliver them.
//! `python3 -m pip install awslambdaric` is part of the test setup (see the Makefile).

use std::path::Path;

use faas_checks::fixture::Function;
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
