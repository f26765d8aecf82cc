//! The emulator's Runtime API as a runtime sees it: AWS's status codes and error bodies for
//! every call, driven by hand from the test while the "function" is a process that never
//! calls the API itself.

use std::time::Duration;

use faas_checks::fixture::{Function, call, error_type};
use faas_checks::http;

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const T: Duration = Duration::from_secs(20);

/// An emulator whose function is `sleep`: the test plays the runtime on the API port.
fn emulator() -> Function {
    Function::emulated_command(
        &["sleep".as_ref(), "600".as_ref()],
        &[],
        &["--timeout", "30"],
    )
}

#[test]
fn runtime_api_speaks_awss_status_codes() {
    let f = emulator();
    std::thread::scope(|s| {
        // Answering before any event is an invalid state transition.
        let r = call(
            &f,
            "POST",
            "/2018-06-01/runtime/invocation/nope/response",
            &[],
            b"{}",
        );
        assert_eq!(
            (r.status, error_type(&r).as_str()),
            (403, "InvalidStateTransition")
        );

        let caller = s.spawn(|| f.invoke_with(&[("X-Amzn-Trace-Id", "Root=1-abc")], br#"{"q":1}"#));
        let next = call(&f, "GET", NEXT, &[], b"");
        assert_eq!(next.status, 200);
        assert_eq!(next.body, br#"{"q":1}"#);
        let id = next
            .header("lambda-runtime-aws-request-id")
            .unwrap()
            .to_owned();
        let deadline: u64 = next
            .header("lambda-runtime-deadline-ms")
            .unwrap()
            .parse()
            .unwrap();
        assert!(deadline > 0);
        assert_eq!(next.header("lambda-runtime-trace-id"), Some("Root=1-abc"));
        assert!(
            next.header("lambda-runtime-invoked-function-arn")
                .unwrap()
                .starts_with("arn:aws:lambda:")
        );

        // A second /next while holding an event is refused; so is init/error after the first event.
        let r = call(&f, "GET", NEXT, &[], b"");
        assert_eq!(
            (r.status, error_type(&r).as_str()),
            (403, "InvalidStateTransition")
        );
        let r = call(&f, "POST", "/2018-06-01/runtime/init/error", &[], b"{}");
        assert_eq!(r.status, 403);
        // An unknown request id is a 400.
        let r = call(
            &f,
            "POST",
            "/2018-06-01/runtime/invocation/other-id/response",
            &[],
            b"{}",
        );
        assert_eq!(
            (r.status, error_type(&r).as_str()),
            (400, "InvalidRequestID")
        );
        // The real answer is accepted with 202, and reaches the caller.
        let r = call(
            &f,
            "POST",
            &format!("/2018-06-01/runtime/invocation/{id}/response"),
            &[],
            b"[42]",
        );
        assert_eq!(r.status, 202);
        assert_eq!(String::from_utf8_lossy(&r.body), r#"{"status":"OK"}"#);
        let answer = caller.join().unwrap();
        assert_eq!(
            (answer.status, answer.body.as_slice()),
            (200, b"[42]".as_slice())
        );
        // Answering twice is an invalid state transition.
        let r = call(
            &f,
            "POST",
            &format!("/2018-06-01/runtime/invocation/{id}/error"),
            &[],
            b"{}",
        );
        assert_eq!(r.status, 403);

        // An error with its type header reaches the caller as a function error.
        let caller = s.spawn(|| f.invoke(b"{}"));
        let id = call(&f, "GET", NEXT, &[], b"")
            .header("lambda-runtime-aws-request-id")
            .unwrap()
            .to_owned();
        let body = br#"{"errorMessage":"m","errorType":"Custom","stackTrace":[]}"#;
        let headers = [("Lambda-Runtime-Function-Error-Type", "Custom")];
        let r = call(
            &f,
            "POST",
            &format!("/2018-06-01/runtime/invocation/{id}/error"),
            &headers,
            body,
        );
        assert_eq!(r.status, 202);
        let answer = caller.join().unwrap();
        assert_eq!(answer.header("x-amz-function-error"), Some("Unhandled"));
        assert_eq!(answer.body, body);

        // A response over 6 MiB: 413 to the runtime, Function.ResponseSizeTooLarge to the caller.
        let caller = s.spawn(|| f.invoke(b"{}"));
        let id = call(&f, "GET", NEXT, &[], b"")
            .header("lambda-runtime-aws-request-id")
            .unwrap()
            .to_owned();
        let big = vec![b'1'; 6 * 1024 * 1024 + 1];
        let r = call(
            &f,
            "POST",
            &format!("/2018-06-01/runtime/invocation/{id}/response"),
            &[],
            &big,
        );
        assert_eq!(
            (r.status, error_type(&r).as_str()),
            (413, "RequestEntityTooLarge")
        );
        assert_eq!(
            error_type(&caller.join().unwrap()),
            "Function.ResponseSizeTooLarge"
        );

        // Unknown routes are 404 with a JSON body.
        assert_eq!(
            call(&f, "GET", "/2018-06-01/runtime/nothing", &[], b"").status,
            404
        );
    });
}

#[test]
fn init_error_before_the_first_event_is_accepted() {
    let f = emulator();
    let headers = [("Lambda-Runtime-Function-Error-Type", "Runtime.Custom")];
    let body = br#"{"errorMessage":"no config","errorType":"Runtime.Custom"}"#;
    let r = call(&f, "POST", "/2018-06-01/runtime/init/error", &headers, body);
    assert_eq!(r.status, 202);
    // Once is enough: the state machine now expects the process to exit.
    assert_eq!(
        call(&f, "POST", "/2018-06-01/runtime/init/error", &headers, body).status,
        403
    );
}

#[test]
fn invoke_endpoint_refuses_bad_routes_and_methods() {
    let f = emulator();
    let r = http::request(
        &f.invoke_addr,
        "GET",
        "/2015-03-31/functions/function/invocations",
        &[],
        b"",
        T,
    )
    .unwrap();
    assert_eq!(r.status, 405);
    let r = http::request(&f.invoke_addr, "POST", "/elsewhere", &[], b"{}", T).unwrap();
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (404, "ResourceNotFoundException")
    );
}

#[test]
fn caller_gets_an_exit_error_when_the_function_crashes_mid_invocation() {
    // `sh -c 'exit 3'` dies at once: the supervisor restarts it, and an invocation dispatched
    // to a dying process fails instead of hanging.
    let f = Function::emulated_command(
        &["sh".as_ref(), "-c".as_ref(), "sleep 0.3; exit 3".as_ref()],
        &[],
        &["--timeout", "30"],
    );
    std::thread::scope(|s| {
        let caller = s.spawn(|| f.invoke(b"{}"));
        let next = call(&f, "GET", NEXT, &[], b"");
        assert_eq!(next.status, 200);
        let answer = caller.join().unwrap();
        assert_eq!(error_type(&answer), "Runtime.ExitError");
        assert!(
            String::from_utf8_lossy(&answer.body).contains("exit status: 3"),
            "{}",
            answer.body_excerpt()
        );
    });
    assert!(
        f.wait_for_output("the function process ended (exit status: 3)", T)
            .is_some()
    );
}

#[test]
fn a_function_that_dies_during_init_fails_the_waiting_invoke_at_once() {
    let f = Function::emulated_command(&["false".as_ref()], &[], &["--timeout", "60"]);
    let started = std::time::Instant::now();
    let answer = f.invoke(b"{}");
    assert_eq!(
        error_type(&answer),
        "Runtime.ExitError",
        "{}",
        answer.body_excerpt()
    );
    assert!(String::from_utf8_lossy(&answer.body).contains("exit status: 1"));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "not the 60 s timeout"
    );
}

/// The function process under local mode: the bootstrap's one child.
fn function_pid(bootstrap: u32) -> Option<i32> {
    let children =
        std::fs::read_to_string(format!("/proc/{bootstrap}/task/{bootstrap}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

/// Stops local mode as a person does: `timeout` (SIGTERM to the bootstrap alone) on even
/// rounds, Ctrl-C (SIGINT to the bootstrap and its function process at once) on odd ones.
fn signal_local_mode(f: &Function, round: usize) {
    if round % 2 == 0 {
        f.signal(libc::SIGTERM);
    } else {
        let function = function_pid(f.pid()).expect("local mode runs its function process");
        f.signal(libc::SIGINT);
        // SAFETY: kill(2) on a process of this test's tree.
        unsafe { libc::kill(function, libc::SIGINT) };
    }
}

/// Waits for local mode to exit after [`signal_local_mode`]; returns everything both
/// processes printed.
fn stopped_output(mut f: Function) -> String {
    let status = f.wait(T).expect("local mode stops");
    assert!(status.success(), "{status:?}\n{}", f.output());
    // Both processes' last lines, read by other threads: wait for them, do not race them.
    assert!(
        f.wait_for_output("stop signal", T).is_some()
            && f.wait_for_output("stopped; the function process ended", T)
                .is_some(),
        "{}",
        f.output()
    );
    f.output()
}

/// Issue 23: a normal stop of local mode logs no ERROR. The function's idle `/next` used to
/// be answered 410 ("this function process has been replaced") before its SIGTERM arrived.
#[test]
fn stopping_local_mode_logs_no_error_idle_or_mid_invocation() {
    let sleep = faas_checks::fixture::example("sleep");
    // The function's own SIGTERM handling is under test: without an extension Lambda (and the
    // emulator by default) would kill it without a signal (checks/tests/lifecycle.rs).
    let env = [("FAAS_EMULATOR_SIGTERM", "always")];
    for round in 0..20 {
        let idle = Function::local(&sleep, &env);
        assert_eq!(idle.invoke(br#"{"ms": 1}"#).status, 200);
        // Time to post the answer and block in the next `/next`.
        std::thread::sleep(Duration::from_millis(100));
        signal_local_mode(&idle, round);
        let output = stopped_output(idle);
        assert!(!output.contains("ERROR"), "round {round}, idle:\n{output}");

        let busy = Function::local(&sleep, &env);
        std::thread::scope(|s| {
            let caller = s.spawn(|| busy.invoke(br#"{"ms": 300}"#));
            let started = busy.wait_for_output("START RequestId", T);
            assert!(started.is_some(), "{}", busy.output());
            // START is printed as `/next` is answered: let the answer reach the handler.
            std::thread::sleep(Duration::from_millis(100));
            signal_local_mode(&busy, round);
            // The invocation in flight finishes and its caller gets the answer.
            let answer = caller.join().unwrap();
            assert_eq!(answer.body, br#"{"slept_ms":300}"#, "{}", busy.output());
        });
        let output = stopped_output(busy);
        assert!(
            !output.contains("ERROR"),
            "round {round}, mid-invocation:\n{output}"
        );
        assert!(
            output.contains("stop signal during an invocation"),
            "{output}"
        );
    }
}
