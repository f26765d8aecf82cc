//! Lambda's lifecycle with extensions, with real processes over loopback: the Extensions API's
//! shapes and status codes, the shutdown phase (SIGTERM to the runtime only when an extension
//! registered, its budget, SIGKILL), the function author's shutdown hook, and an external
//! extension that sees every INVOKE and the SHUTDOWN in order.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faas_checks::files::{read, scratch, wait_for_file};
use faas_checks::fixture::{Function, call, error_type, example};
use faas_checks::http;
use serde_json::json;

const T: Duration = Duration::from_secs(20);
const REGISTER: &str = "/2020-01-01/extension/register";
const EVENT_NEXT: &str = "/2020-01-01/extension/event/next";
const RUNTIME_NEXT: &str = "/2018-06-01/runtime/invocation/next";

/// SIGTERM to the emulator; waits for it to exit 0 and returns its output (both processes').
fn stop(mut f: Function) -> (String, Duration) {
    let signalled = Instant::now();
    f.signal(libc::SIGTERM);
    let status = f.wait(T).expect("the emulator exits after SIGTERM");
    let took = signalled.elapsed();
    assert!(status.success(), "{status:?}\n{}", f.output());
    assert!(
        f.wait_for_output("stopped; the function process ended", T)
            .is_some(),
        "{}",
        f.output()
    );
    (f.output(), took)
}

fn hook_function(hook: &str, log: &Path) -> Function {
    Function::emulated(
        &example("shutdown_hook"),
        &[("HOOK", hook), ("HOOK_LOG", log.to_str().unwrap())],
        &[],
    )
}

/// Register and next answer as Lambda's do: the identifier header, the function's info (and
/// the account with the `accountId` feature), 403/400 with AWS's error types for a missing name,
/// an unknown event, a missing or unknown identifier, SHUTDOWN for an internal extension and a
/// registration after init; the INVOKE event carries the runtime's request id, deadline, ARN
/// and trace header.
#[test]
fn the_extensions_api_answers_as_lambda() {
    let f = Function::emulated_command(
        &["sleep".as_ref(), "600".as_ref()],
        &[("AWS_LAMBDA_FUNCTION_NAME", "orders")],
        &["--timeout", "30"],
    );
    let r = call(&f, "POST", REGISTER, &[], br#"{"events":[]}"#);
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (403, "Extension.InvalidExtensionName")
    );
    let r = call(
        &f,
        "POST",
        REGISTER,
        &[("Lambda-Extension-Name", "x")],
        br#"{"events":["BOOT"]}"#,
    );
    assert_eq!(r.status, 400, "{}", r.body_excerpt());
    let r = call(
        &f,
        "POST",
        REGISTER,
        &[("Lambda-Extension-Name", "x")],
        br#"{"events":["SHUTDOWN"]}"#,
    );
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (
            403,
            "Extension.ShutdownEventNotSupportedForInternalExtension"
        )
    );
    let r = call(
        &f,
        "POST",
        REGISTER,
        &[
            ("Lambda-Extension-Name", "probe"),
            ("Lambda-Extension-Accept-Feature", "accountId"),
        ],
        br#"{"events":["INVOKE"]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body_excerpt());
    let id = r
        .header("lambda-extension-identifier")
        .expect("an identifier")
        .to_owned();
    let info = r.expect_json();
    assert_eq!(info["functionName"], "orders");
    assert_eq!(info["functionVersion"], "$LATEST");
    assert_eq!(info["accountId"], "012345678912");
    let r = call(
        &f,
        "POST",
        REGISTER,
        &[("Lambda-Extension-Name", "probe")],
        br#"{"events":[]}"#,
    );
    assert_eq!(r.status, 403, "a name registers once");

    let r = call(&f, "GET", EVENT_NEXT, &[], b"");
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (403, "Extension.MissingExtensionIdentifier")
    );
    let r = call(
        &f,
        "GET",
        EVENT_NEXT,
        &[("Lambda-Extension-Identifier", "nobody")],
        b"",
    );
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (403, "Extension.UnknownExtensionIdentifier")
    );
    let r = call(
        &f,
        "POST",
        "/2020-01-01/extension/init/error",
        &[
            ("Lambda-Extension-Identifier", &id),
            ("Lambda-Extension-Function-Error-Type", "Extension.Probe"),
        ],
        br#"{"errorMessage":"just checking"}"#,
    );
    assert_eq!(r.status, 202, "{}", r.body_excerpt());
    assert!(
        f.wait_for_output("Extension.Probe", T).is_some(),
        "{}",
        f.output()
    );

    // The test plays the runtime and the extension at once.
    std::thread::scope(|s| {
        let extension = s.spawn(|| {
            call(
                &f,
                "GET",
                EVENT_NEXT,
                &[("Lambda-Extension-Identifier", &id)],
                b"",
            )
        });
        let runtime = s.spawn(|| call(&f, "GET", RUNTIME_NEXT, &[], b""));
        let caller = s.spawn(|| {
            f.invoke_with(
                &[(
                    "X-Amzn-Trace-Id",
                    "Root=1-5759e988-bd862e3fe1be46a994272793",
                )],
                b"{}",
            )
        });
        let event = runtime.join().unwrap();
        let request_id = event
            .header("lambda-runtime-aws-request-id")
            .unwrap()
            .to_owned();
        let invoke = extension.join().unwrap();
        assert_eq!(invoke.status, 200, "{}", invoke.body_excerpt());
        let invoke = invoke.expect_json();
        assert_eq!(invoke["eventType"], "INVOKE");
        assert_eq!(invoke["requestId"], request_id.as_str());
        assert_eq!(
            invoke["deadlineMs"].as_u64().map(|d| d.to_string()),
            event
                .header("lambda-runtime-deadline-ms")
                .map(str::to_owned)
        );
        assert_eq!(
            invoke["invokedFunctionArn"],
            "arn:aws:lambda:us-east-1:012345678912:function:orders"
        );
        assert_eq!(
            invoke["tracing"],
            json!({"type": "X-Amzn-Trace-Id", "value": "Root=1-5759e988-bd862e3fe1be46a994272793"})
        );
        let path = format!("/2018-06-01/runtime/invocation/{request_id}/response");
        assert_eq!(call(&f, "POST", &path, &[], b"1").status, 202);
        assert_eq!(caller.join().unwrap().body, b"1");
    });
    let r = call(
        &f,
        "POST",
        REGISTER,
        &[("Lambda-Extension-Name", "late")],
        br#"{"events":[]}"#,
    );
    assert_eq!(
        (r.status, error_type(&r).as_str()),
        (403, "Extension.InvalidState")
    );
}

/// A function with a hook registers its internal extension, so the stop reaches it as SIGTERM
/// (Lambda's 500 ms), and its hook runs with the budget left.
#[test]
fn a_hook_gets_sigterm_and_runs_within_its_budget() {
    let dir = scratch("hook");
    let log = dir.join("hook.log");
    let f = hook_function("flush", &log);
    let r = f.invoke(br#"{"n":1}"#);
    assert_eq!(r.expect_json(), json!({"n": 1}));
    let (output, took) = stop(f);
    assert!(output.contains("exit status: 0; signalled"), "{output}");
    assert!(output.contains("shutdown: the hook finished"), "{output}");
    let line = read(&log);
    let budget: u64 = line
        .trim()
        .strip_prefix("hook ran, budget_ms=")
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("no hook line: {line:?}\n{output}"));
    assert!(budget > 0 && budget <= 500, "{budget}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

/// Without a hook (and no extension) the function is killed, as on Lambda: no SIGTERM reaches
/// it, and every answer it gave before reached its caller.
#[test]
fn without_a_hook_the_function_is_killed_and_loses_nothing_answered() {
    let dir = scratch("nohook");
    let log = dir.join("hook.log");
    let f = hook_function("none", &log);
    for n in 0..5 {
        assert_eq!(
            f.invoke(format!(r#"{{"n":{n}}}"#).as_bytes()).expect_json(),
            json!({"n": n})
        );
    }
    let (output, _) = stop(f);
    assert!(output.contains("signal: 9"), "{output}");
    assert!(
        output.contains("killed without a signal: no extension registered"),
        "{output}"
    );
    assert!(
        !output.contains("stop signal"),
        "the function saw no signal:\n{output}"
    );
    assert_eq!(read(&log), "", "no hook ran");
}

/// A hook that overruns the budget is killed at it: the emulator sends SIGKILL after 500 ms.
#[test]
fn a_hook_that_overruns_is_killed_at_the_budget() {
    let dir = scratch("overrun");
    let log = dir.join("hook.log");
    let f = hook_function("overrun", &log);
    assert_eq!(f.invoke(br#"{"n":1}"#).status, 200);
    let (output, took) = stop(f);
    assert!(
        output.contains("did not exit within its 500 ms shutdown budget: killed"),
        "{output}"
    );
    assert!(output.contains("signal: 9"), "{output}");
    assert_eq!(read(&log).trim(), "hook started", "{output}");
    // 500 ms and a loaded machine: far below the hook's own 5 s.
    assert!(took < Duration::from_secs(4), "{took:?}");
}

/// A hook's error is logged, and the function still exits cleanly.
#[test]
fn a_failing_hook_is_logged() {
    let dir = scratch("fail");
    let log = dir.join("hook.log");
    let f = hook_function("fail", &log);
    assert_eq!(f.invoke(br#"{"n":1}"#).status, 200);
    let (output, _) = stop(f);
    assert!(output.contains("shutdown: the hook failed"), "{output}");
    assert!(output.contains("the pool would not close"), "{output}");
    assert!(output.contains("exit status: 0; signalled"), "{output}");
}

/// An external extension started from `--extensions-dir`, registered for INVOKE and
/// SHUTDOWN, sees each invocation's event (in the order the runtime took them) and then the
/// shutdown; with it registered, the runtime (no hook) gets SIGTERM and 300 ms.
#[test]
fn an_external_extension_sees_every_invoke_then_the_shutdown() {
    let dir = scratch("external");
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).unwrap();
    std::os::unix::fs::symlink(example("extension_recorder"), extensions.join("recorder")).unwrap();
    let log = dir.join("extension.log");
    let f = Function::emulated(
        &example("shutdown_hook"),
        &[("HOOK", "none"), ("EXTENSION_LOG", log.to_str().unwrap())],
        &["--extensions-dir", extensions.to_str().unwrap()],
    );
    assert!(wait_for_file(&log, "registered"), "{}", f.output());
    for n in 0..3 {
        assert_eq!(f.invoke(format!(r#"{{"n":{n}}}"#).as_bytes()).status, 200);
    }
    assert!(wait_for_file(&log, "INVOKE"), "{}", f.output());
    let (output, _) = stop(f);
    assert!(wait_for_file(&log, "SHUTDOWN"), "{output}");
    let starts: Vec<String> = output
        .lines()
        .filter_map(|l| l.split("START RequestId: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next().map(str::to_owned))
        .collect();
    assert_eq!(starts.len(), 3, "{output}");
    let mut expected = vec!["registered".to_owned()];
    expected.extend(starts.iter().map(|id| format!("INVOKE {id}")));
    expected.push("SHUTDOWN spindown".to_owned());
    let lines: Vec<String> = read(&log).lines().map(str::to_owned).collect();
    assert_eq!(lines, expected, "{output}");
    assert!(output.contains("exit status: 0; signalled"), "{output}");
    assert!(output.contains("stop signal while idle"), "{output}");
}

/// Lambda's init phase ends only when every extension has called `next`: an event waits for a
/// registered extension that has not, and reaches the runtime and the extension together once
/// it does. After its INVOKE, the next event waits until the extension calls `next` again.
#[test]
fn events_wait_for_every_extension_to_call_next() {
    let f = Function::emulated_command(
        &["sleep".as_ref(), "600".as_ref()],
        &[],
        &["--timeout", "30"],
    );
    let r = call(
        &f,
        "POST",
        REGISTER,
        &[("Lambda-Extension-Name", "slow")],
        br#"{"events":["INVOKE"]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body_excerpt());
    let id = r.header("lambda-extension-identifier").unwrap().to_owned();
    let hold = Duration::from_millis(400);
    std::thread::scope(|s| {
        let caller = s.spawn(|| f.invoke(b"1"));
        let runtime = s.spawn(|| {
            let event = call(&f, "GET", RUNTIME_NEXT, &[], b"");
            (event, Instant::now())
        });
        std::thread::sleep(hold);
        assert!(
            !runtime.is_finished(),
            "the event went out before the extension was ready"
        );
        let released = Instant::now();
        let invoke = call(
            &f,
            "GET",
            EVENT_NEXT,
            &[("Lambda-Extension-Identifier", &id)],
            b"",
        );
        assert_eq!(invoke.expect_json()["eventType"], "INVOKE");
        let (event, answered) = runtime.join().unwrap();
        assert!(
            answered >= released,
            "the event went out before the extension's next"
        );
        let request_id = event
            .header("lambda-runtime-aws-request-id")
            .unwrap()
            .to_owned();
        let path = format!("/2018-06-01/runtime/invocation/{request_id}/response");
        assert_eq!(call(&f, "POST", &path, &[], b"1").status, 202);
        assert_eq!(caller.join().unwrap().body, b"1");

        // Post-invoke: the extension is busy with its INVOKE until it calls next again.
        let caller = s.spawn(|| f.invoke(b"2"));
        let runtime = s.spawn(|| call(&f, "GET", RUNTIME_NEXT, &[], b""));
        std::thread::sleep(hold);
        assert!(
            !runtime.is_finished(),
            "the second event did not wait for the extension"
        );
        let extension = s.spawn(|| {
            call(
                &f,
                "GET",
                EVENT_NEXT,
                &[("Lambda-Extension-Identifier", &id)],
                b"",
            )
        });
        let event = runtime.join().unwrap();
        let request_id = event
            .header("lambda-runtime-aws-request-id")
            .unwrap()
            .to_owned();
        assert_eq!(
            extension.join().unwrap().expect_json()["requestId"],
            request_id.as_str()
        );
        let path = format!("/2018-06-01/runtime/invocation/{request_id}/response");
        assert_eq!(call(&f, "POST", &path, &[], b"2").status, 202);
        assert_eq!(caller.join().unwrap().body, b"2");
    });
}

/// Local mode (the function's own binary without `AWS_LAMBDA_RUNTIME_API`) stops as Lambda
/// does too: with a hook, its function process is signalled and the hook runs; without one,
/// the function process is killed.
#[test]
fn local_mode_runs_the_shutdown_phase() {
    let dir = scratch("local");
    for (hook, signalled) in [("flush", true), ("none", false)] {
        let log = dir.join(format!("{hook}.log"));
        let f = Function::local(
            &example("shutdown_hook"),
            &[("HOOK", hook), ("HOOK_LOG", log.to_str().unwrap())],
        );
        assert_eq!(f.invoke(br#"{"n":7}"#).expect_json(), json!({"n": 7}));
        let (output, _) = stop(f);
        if signalled {
            assert!(output.contains("exit status: 0; signalled"), "{output}");
            assert!(read(&log).starts_with("hook ran"), "{output}");
        } else {
            assert!(output.contains("killed without a signal"), "{output}");
            assert_eq!(read(&log), "", "{output}");
        }
    }
}

/// Lambda's post-invoke phase: the caller has its answer as soon as the runtime posts it, but
/// the invocation ends (`REPORT`, its duration and billed duration) only when the extension
/// registered for INVOKE calls `next` again.
#[test]
fn report_includes_the_post_invoke_phase() {
    let f = Function::emulated_command(
        &["sleep".as_ref(), "600".as_ref()],
        &[],
        &["--timeout", "30"],
    );
    let r = call(
        &f,
        "POST",
        REGISTER,
        &[("Lambda-Extension-Name", "lingering")],
        br#"{"events":["INVOKE"]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body_excerpt());
    let id = r.header("lambda-extension-identifier").unwrap().to_owned();
    let linger = Duration::from_millis(600);
    std::thread::scope(|s| {
        let extension = s.spawn(|| {
            let invoke = call(
                &f,
                "GET",
                EVENT_NEXT,
                &[("Lambda-Extension-Identifier", &id)],
                b"",
            );
            // Post-invoke work (flushing telemetry, say) before asking for the next event,
            // which never comes: that call is left waiting, outside the scope.
            std::thread::sleep(linger);
            let (api, id) = (f.api_addr.clone(), id.clone());
            std::thread::spawn(move || {
                let wait = Duration::from_secs(600);
                let _ = http::request(
                    &api,
                    "GET",
                    EVENT_NEXT,
                    &[("Lambda-Extension-Identifier", &id)],
                    b"",
                    wait,
                );
            });
            invoke.expect_json()["requestId"]
                .as_str()
                .unwrap()
                .to_owned()
        });
        let caller = s.spawn(|| f.invoke(b"1"));
        let event = call(&f, "GET", RUNTIME_NEXT, &[], b"");
        let request_id = event
            .header("lambda-runtime-aws-request-id")
            .unwrap()
            .to_owned();
        let path = format!("/2018-06-01/runtime/invocation/{request_id}/response");
        assert_eq!(call(&f, "POST", &path, &[], b"1").status, 202);
        assert_eq!(caller.join().unwrap().body, b"1");
        let report = format!("REPORT RequestId: {request_id}");
        assert!(
            !f.output().contains(&report),
            "REPORT before the extension called next again:\n{}",
            f.output()
        );
        assert_eq!(extension.join().unwrap(), request_id);
        let output = f.wait_for_output(&report, T).expect("a REPORT line");
        let line = output.lines().find(|l| l.contains(&report)).unwrap();
        let ms = |label: &str| -> f64 {
            line.split(label)
                .nth(1)
                .and_then(|r| r.split(" ms").next())
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        assert!(ms("\tDuration: ") >= linger.as_millis() as f64, "{line}");
        assert!(
            ms("Billed Duration: ") >= linger.as_millis() as f64,
            "{line}"
        );
    });
}

/// Bash that registers the script as an external extension (for `INVOKE`), under its file's
/// name, with the Extensions API over `/dev/tcp` (no curl on a fresh machine).
const BASH_REGISTER: &str = r#"
api=$AWS_LAMBDA_RUNTIME_API
name=$(basename "$0")
body='{"events":["INVOKE"]}'
exec 3<>"/dev/tcp/${api%:*}/${api##*:}"
printf 'POST /2020-01-01/extension/register HTTP/1.1\r\nHost: %s\r\nLambda-Extension-Name: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "$api" "$name" "${#body}" "$body" >&3
read -r status <&3
exec 3<&-
"#;

/// Writes an executable bash script.
fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/bash\n{body}")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn lines(path: &Path) -> Vec<String> {
    read(path).lines().map(str::to_owned).collect()
}

/// An external extension that registers and then exits 1 before calling `next` fails the init
/// as on Lambda: the invocation waiting for that init gets `Extension.Crash` (a function error,
/// at once, not after the 10 s init limit), and the environment is started again, extension
/// included: this one works on its second start, so the next invocation is answered.
#[test]
fn an_extension_that_crashes_during_init_fails_it_with_extension_crash() {
    let dir = scratch("crash-once");
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).unwrap();
    let (starts, go, log) = (dir.join("starts"), dir.join("go"), dir.join("ext.log"));
    script(
        &extensions.join("flaky"),
        &format!(
            r#"echo start >> {starts:?}
if [ ! -e {crashed:?} ]; then
{BASH_REGISTER}
  while [ ! -e {go:?} ]; do sleep 0.02; done
  : > {crashed:?}
  exit 1
fi
exec -a "$0" {recorder:?}
"#,
            crashed = dir.join("crashed"),
            recorder = example("extension_recorder"),
        ),
    );
    let f = Function::emulated(
        &example("echo"),
        &[("EXTENSION_LOG", log.to_str().unwrap())],
        &["--extensions-dir", extensions.to_str().unwrap()],
    );
    assert!(wait_for_file(&starts, "start"), "{}", f.output());
    let asked = Instant::now();
    let answer = std::thread::scope(|s| {
        let caller = s.spawn(|| f.invoke(br#"{"n":1}"#));
        // The invocation waits for the init (the extension never calls next), then the
        // extension exits.
        std::thread::sleep(Duration::from_millis(300));
        std::fs::write(&go, "").unwrap();
        caller.join().unwrap()
    });
    assert_eq!(answer.status, 200, "{}", answer.body_excerpt());
    assert_eq!(answer.header("x-amz-function-error"), Some("Unhandled"));
    assert_eq!(error_type(&answer), "Extension.Crash", "{}", f.output());
    let message = answer.expect_json()["errorMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("flaky") && message.contains("exit status: 1"),
        "{message}"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(8),
        "{:?}",
        asked.elapsed()
    );
    assert!(
        f.wait_for_output("the extension flaky exited during init", T)
            .is_some(),
        "{}",
        f.output()
    );
    assert!(
        f.output()
            .contains("\tPhase: init\tStatus: error\tError Type: Extension.Crash"),
        "{}",
        f.output()
    );
    // A fresh init, the extension started again: it registers and the invocation runs.
    assert_eq!(f.invoke(br#"{"n":2}"#).expect_json(), json!({"n": 2}));
    assert_eq!(lines(&starts).len(), 2, "{}", f.output());
    // The extension logs its INVOKE on its own time, maybe after the caller has its answer.
    assert!(wait_for_file(&log, "INVOKE "), "{}", f.output());
    let log = lines(&log);
    assert_eq!(
        log.first().map(String::as_str),
        Some("registered"),
        "{log:?}"
    );
    assert!(log.iter().any(|l| l.starts_with("INVOKE ")), "{log:?}");
}

/// An extension that exits at every start (without registering) fails every init with
/// `Extension.Crash`: each invocation is answered with it promptly, none hangs, and the
/// function process is started again with each new environment.
#[test]
fn an_extension_that_always_crashes_fails_every_invocation_promptly() {
    let dir = scratch("crash-always");
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).unwrap();
    script(&extensions.join("broken"), "exit 1\n");
    let f = Function::emulated(
        &example("echo"),
        &[],
        &["--extensions-dir", extensions.to_str().unwrap()],
    );
    for n in 0..2 {
        let asked = Instant::now();
        let answer = f.invoke(format!(r#"{{"n":{n}}}"#).as_bytes());
        assert_eq!(error_type(&answer), "Extension.Crash", "{}", f.output());
        assert!(
            asked.elapsed() < Duration::from_secs(8),
            "{:?}",
            asked.elapsed()
        );
    }
    assert!(
        f.wait_for_output(
            "the extension broken exited during init (exit status: 1)",
            T
        )
        .is_some(),
        "{}",
        f.output()
    );
}

/// A function process that crashes mid-invocation resets the whole environment, as on
/// Lambda: the external extension gets SHUTDOWN (`failure`) and exits, it is started again
/// with the new function process and registers again, and the next invocation reaches it.
#[test]
fn a_function_crash_restarts_the_extensions_with_it() {
    let dir = scratch("reset");
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).unwrap();
    let (starts, log) = (dir.join("starts"), dir.join("ext.log"));
    script(
        &extensions.join("counter"),
        &format!(
            "echo start >> {starts:?}\nexec -a \"$0\" {:?}\n",
            example("extension_recorder")
        ),
    );
    // The function: on its first start it takes one event and dies; then it is `echo`.
    let function = dir.join("function");
    script(
        &function,
        &format!(
            r#"if [ ! -e {crashed:?} ]; then
  : > {crashed:?}
  api=$AWS_LAMBDA_RUNTIME_API
  exec 3<>"/dev/tcp/${{api%:*}}/${{api##*:}}"
  printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n' "$api" >&3
  read -r status <&3
  exit 3
fi
exec {echo:?}
"#,
            crashed = dir.join("crashed"),
            echo = example("echo"),
        ),
    );
    let f = Function::emulated(
        &function,
        &[("EXTENSION_LOG", log.to_str().unwrap())],
        &["--extensions-dir", extensions.to_str().unwrap()],
    );
    let crashed = f.invoke(br#"{"n":1}"#);
    assert_eq!(error_type(&crashed), "Runtime.ExitError", "{}", f.output());
    let answer = f.invoke(br#"{"n":2}"#);
    assert_eq!(answer.expect_json(), json!({"n": 2}), "{}", f.output());
    assert_eq!(lines(&starts).len(), 2, "{}", f.output());
    let output = f.output();
    let ids: Vec<&str> = output
        .lines()
        .filter_map(|l| l.split("START RequestId: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert_eq!(ids.len(), 2, "{output}");
    let expected = [
        "registered".to_owned(),
        format!("INVOKE {}", ids[0]),
        "SHUTDOWN failure".to_owned(),
        "registered".to_owned(),
        format!("INVOKE {}", ids[1]),
    ];
    assert!(wait_for_file(&log, &expected[4]), "{output}");
    assert_eq!(lines(&log), expected, "{output}");
}

/// A function whose first init sleeps past the init limit (shortened to 500 ms with
/// `FAAS_EMULATOR_INIT_LIMIT_MS`), and whose retried init takes 400 ms before it runs `echo`.
fn slow_first_init(dir: &Path) -> (PathBuf, PathBuf) {
    let (function, starts) = (dir.join("function"), dir.join("starts"));
    script(
        &function,
        &format!(
            r#"echo start >> {starts:?}
if [ ! -e {slow:?} ]; then : > {slow:?}; exec sleep 30; fi
sleep 0.4
exec {echo:?}
"#,
            slow = dir.join("slow"),
            echo = example("echo"),
        ),
    );
    (function, starts)
}

/// The `REPORT` line of the invocation that started with `START RequestId: <id>`.
fn report_of(f: &Function, start: &str) -> String {
    let id = start
        .split("START RequestId: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no START line: {start:?}"))
        .to_owned();
    f.wait_for_output(&format!("REPORT RequestId: {id}"), T)
        .unwrap_or_else(|| panic!("no REPORT for {id}:\n{}", f.output()))
}

fn duration_ms(report: &str) -> f64 {
    report
        .split("\tDuration: ")
        .nth(1)
        .and_then(|r| r.split(" ms").next())
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no Duration in {report:?}"))
}

/// Lambda's init limit: an init still running past it is abandoned (`INIT_REPORT ... Status:
/// timeout`, the process killed) and retried inside the invocation waiting for it, under the
/// function's timeout: the invocation is answered, and its `REPORT` has no Init Duration but a
/// Duration that includes the retried init (the "suppressed init").
#[test]
fn an_init_past_the_limit_is_retried_inside_the_invocation() {
    let dir = scratch("init-timeout");
    let (function, starts) = slow_first_init(&dir);
    let f = Function::emulated(
        &function,
        &[("FAAS_EMULATOR_INIT_LIMIT_MS", "500")],
        &["--timeout", "5"],
    );
    let asked = Instant::now();
    let answer = f.invoke(br#"{"n":1}"#);
    assert_eq!(answer.expect_json(), json!({"n": 1}), "{}", f.output());
    assert!(
        asked.elapsed() >= Duration::from_millis(800),
        "{:?}",
        asked.elapsed()
    );
    let output = f.output();
    let init_report = output
        .lines()
        .find(|l| l.starts_with("INIT_REPORT"))
        .unwrap_or_else(|| panic!("no INIT_REPORT:\n{output}"));
    assert!(
        init_report.ends_with("\tPhase: init\tStatus: timeout"),
        "{init_report}"
    );
    assert!(
        output.contains("the init phase passed its 500 ms limit"),
        "{output}"
    );
    let start = f.wait_for_output("START RequestId: ", T).unwrap();
    let report = report_of(&f, &start);
    assert!(!report.contains("Init Duration"), "{report}");
    assert!(duration_ms(&report) >= 400.0, "{report}");
    assert_eq!(lines(&starts).len(), 2, "{output}");
}

/// With no invocation waiting, the init that passed the limit is retried only when the first
/// invocation comes, as Lambda retries it "at the time of the first function invocation".
#[test]
fn a_timed_out_init_waits_for_the_first_invocation_to_retry() {
    let dir = scratch("init-timeout-idle");
    let (function, starts) = slow_first_init(&dir);
    let f = Function::emulated(
        &function,
        &[("FAAS_EMULATOR_INIT_LIMIT_MS", "300")],
        &["--timeout", "5"],
    );
    assert!(
        f.wait_for_output("Status: timeout", T).is_some(),
        "{}",
        f.output()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(lines(&starts).len(), 1, "retried before any invocation");
    let answer = f.invoke(br#"{"n":2}"#);
    assert_eq!(answer.expect_json(), json!({"n": 2}), "{}", f.output());
    let start = f.wait_for_output("START RequestId: ", T).unwrap();
    let report = report_of(&f, &start);
    assert!(!report.contains("Init Duration"), "{report}");
    assert!(duration_ms(&report) >= 400.0, "{report}");
    assert_eq!(lines(&starts).len(), 2);
}

/// After init too, an external extension that exits fails the environment: the invocation in
/// flight gets `Extension.Crash` (AWS's emulator stores `AgentCrash` for any extension exit
/// outside the shutdown phase), the environment is reset, and the next invocation gets a fresh
/// one. Here the extension dies on its first INVOKE while the handler sleeps 1.5 s.
#[test]
fn an_extension_that_crashes_mid_invocation_fails_it_with_extension_crash() {
    let dir = scratch("crash-invoke");
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).unwrap();
    let starts = dir.join("starts");
    // Registers for INVOKE, calls next (init done), and exits 1 when the INVOKE arrives; on
    // its second start it is the recorder.
    script(
        &extensions.join("fragile"),
        &format!(
            r#"echo start >> {starts:?}
if [ ! -e {crashed:?} ]; then
  : > {crashed:?}
  api=$AWS_LAMBDA_RUNTIME_API
  name=$(basename "$0")
  body='{{"events":["INVOKE"]}}'
  exec 3<>"/dev/tcp/${{api%:*}}/${{api##*:}}"
  printf 'POST /2020-01-01/extension/register HTTP/1.1\r\nHost: %s\r\nLambda-Extension-Name: %s\r\nContent-Length: %d\r\n\r\n%s' "$api" "$name" "${{#body}}" "$body" >&3
  id=
  while read -r line; do
    line=${{line%$'\r'}}
    case "${{line,,}}" in lambda-extension-identifier:*) id=${{line#*: }};; "") break;; esac
  done <&3
  printf 'GET /2020-01-01/extension/event/next HTTP/1.1\r\nHost: %s\r\nLambda-Extension-Identifier: %s\r\n\r\n' "$api" "$id" >&3
  read -r status <&3
  exit 1
fi
exec -a "$0" {recorder:?}
"#,
            crashed = dir.join("crashed"),
            recorder = example("extension_recorder"),
        ),
    );
    let f = Function::emulated(
        &example("sleep"),
        &[],
        &[
            "--extensions-dir",
            extensions.to_str().unwrap(),
            "--timeout",
            "10",
        ],
    );
    let answer = f.invoke(br#"{"ms":1500}"#);
    assert_eq!(error_type(&answer), "Extension.Crash", "{}", f.output());
    let message = answer.expect_json()["errorMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.starts_with("RequestId: ") && message.contains("fragile"),
        "{message}"
    );
    assert!(
        f.wait_for_output("the extension fragile exited after init", T)
            .is_some(),
        "{}",
        f.output()
    );
    let answer = f.invoke(br#"{"ms":1}"#);
    assert_eq!(
        answer.expect_json(),
        json!({"slept_ms": 1}),
        "{}",
        f.output()
    );
    assert_eq!(lines(&starts).len(), 2, "{}", f.output());
}

/// An invocation that times out (one at a time) resets the environment too: the extension
/// registered for SHUTDOWN hears `shutdownReason: timeout`, exits, and is started again with
/// the new function process.
#[test]
fn a_timeout_resets_the_extensions_with_shutdown_timeout() {
    let dir = scratch("reset-timeout");
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).unwrap();
    let log = dir.join("ext.log");
    std::os::unix::fs::symlink(example("extension_recorder"), extensions.join("recorder")).unwrap();
    let f = Function::emulated(
        &example("sleep"),
        &[("EXTENSION_LOG", log.to_str().unwrap())],
        &[
            "--extensions-dir",
            extensions.to_str().unwrap(),
            "--timeout",
            "1",
        ],
    );
    let answer = f.invoke(br#"{"ms":3000}"#);
    assert_eq!(error_type(&answer), "Sandbox.Timedout", "{}", f.output());
    assert!(wait_for_file(&log, "SHUTDOWN timeout"), "{}", f.output());
    let answer = f.invoke(br#"{"ms":1}"#);
    assert_eq!(
        answer.expect_json(),
        json!({"slept_ms": 1}),
        "{}",
        f.output()
    );
    // The extension logs its second INVOKE on its own time.
    let deadline = Instant::now() + T;
    while lines(&log).len() < 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = lines(&log);
    assert_eq!(
        log.iter()
            .map(|l| l.split(' ').next().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["registered", "INVOKE", "SHUTDOWN", "registered", "INVOKE"],
        "{log:?}"
    );
    assert_eq!(log[2], "SHUTDOWN timeout");
}

/// A function whose first process runs `first` (a shell snippet), and whose later ones sleep
/// 400 ms in their init before they run `then`; each start is a line in `starts`.
fn replaced_with_a_slow_init(dir: &Path, first: &str, then: &Path) -> (PathBuf, PathBuf) {
    let (function, starts) = (dir.join("function"), dir.join("starts"));
    script(
        &function,
        &format!(
            r#"echo start >> {starts:?}
if [ ! -e {first_done:?} ]; then
  : > {first_done:?}
{first}
fi
sleep 0.4
exec {then:?}
"#,
            first_done = dir.join("first-done"),
        ),
    );
    (function, starts)
}

/// After a crash or a timeout, Lambda initializes the replacement environment inside the next
/// invocation: not before it comes, without an `Init Duration` in its `REPORT`, and with the
/// init in its Duration. `f` has just had its first process replaced; `starts` counts the
/// processes; the next invocation of `event` must answer `expected`.
fn the_replacement_inits_inside_the_next_invocation(
    f: &Function,
    starts: &Path,
    event: &[u8],
    expected: serde_json::Value,
) {
    assert!(
        f.wait_for_output("a new environment starts with the next invocation", T)
            .is_some(),
        "{}",
        f.output()
    );
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        lines(starts).len(),
        1,
        "replaced before an invocation came:\n{}",
        f.output()
    );
    let asked = Instant::now();
    let answer = f.invoke(event);
    assert_eq!(answer.expect_json(), expected, "{}", f.output());
    assert!(
        asked.elapsed() >= Duration::from_millis(400),
        "the init ran before the invocation: {:?}",
        asked.elapsed()
    );
    assert_eq!(lines(starts).len(), 2, "{}", f.output());
    let output = f.output();
    let start = output
        .lines()
        .filter(|l| l.starts_with("START RequestId: "))
        .nth(1)
        .unwrap_or_else(|| panic!("no second START:\n{output}"))
        .to_owned();
    let report = report_of(f, &start);
    assert!(!report.contains("Init Duration"), "{report}");
    assert!(duration_ms(&report) >= 350.0, "{report}");
    assert!(!output.contains("INIT_REPORT"), "{output}");
}

/// A crash mid-invocation: the replacement initializes inside the next invocation.
#[test]
fn after_a_crash_the_replacement_inits_inside_the_next_invocation() {
    let dir = scratch("crash-reinit");
    // The first process takes one event and dies.
    let crash = r#"  api=$AWS_LAMBDA_RUNTIME_API
  exec 3<>"/dev/tcp/${api%:*}/${api##*:}"
  printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n' "$api" >&3
  read -r status <&3
  exit 3"#;
    let (function, starts) = replaced_with_a_slow_init(&dir, crash, &example("echo"));
    let f = Function::emulated(&function, &[], &[]);
    let crashed = f.invoke(br#"{"n":1}"#);
    assert_eq!(error_type(&crashed), "Runtime.ExitError", "{}", f.output());
    the_replacement_inits_inside_the_next_invocation(&f, &starts, br#"{"n":2}"#, json!({"n": 2}));
}

/// A timeout (one invocation at a time): the replacement initializes inside the next
/// invocation, whose timeout then covers its init.
#[test]
fn after_a_timeout_the_replacement_inits_inside_the_next_invocation() {
    let dir = scratch("timeout-reinit");
    let sleep = example("sleep");
    let first = format!("  exec {sleep:?}");
    let (function, starts) = replaced_with_a_slow_init(&dir, &first, &sleep);
    let f = Function::emulated(&function, &[], &["--timeout", "1"]);
    let answer = f.invoke(br#"{"ms":3000}"#);
    assert_eq!(error_type(&answer), "Sandbox.Timedout", "{}", f.output());
    the_replacement_inits_inside_the_next_invocation(
        &f,
        &starts,
        br#"{"ms":1}"#,
        json!({"slept_ms": 1}),
    );
}

/// An extension that cannot be started (its interpreter does not exist) fails the init with
/// `Extension.LaunchError`, as AWS's RAPID does, instead of leaving the init waiting for it.
#[test]
fn an_extension_that_cannot_start_fails_the_init_with_launch_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("launch");
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).unwrap();
    let path = extensions.join("unlaunchable");
    std::fs::write(&path, "#!/nonexistent/interpreter\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let f = Function::emulated(
        &example("echo"),
        &[],
        &["--extensions-dir", extensions.to_str().unwrap()],
    );
    let asked = Instant::now();
    let answer = f.invoke(b"{}");
    assert_eq!(
        error_type(&answer),
        "Extension.LaunchError",
        "{}",
        f.output()
    );
    assert!(
        answer.expect_json()["errorMessage"]
            .as_str()
            .unwrap()
            .contains("unlaunchable"),
        "{}",
        answer.body_excerpt()
    );
    assert!(
        asked.elapsed() < Duration::from_secs(8),
        "{:?}",
        asked.elapsed()
    );
}
