//! The Telemetry API with real processes over loopback: an external extension
//! (`extension_recorder` with `TELEMETRY_LOG`) subscribes from its own process and receives the
//! platform records of the init phase and of each invocation in Lambda's order, with the
//! invocation's request id, and the function's output lines as `function` records; bad
//! subscriptions get Lambda's answers, and a destination nobody listens on costs records, not
//! invocations.

use std::path::Path;
use std::time::Duration;

use faas_checks::files::{read, scratch, wait_until};
use faas_checks::fixture::{Function, call, error_type, example};
use faas_checks::http;
use serde_json::Value;

const T: Duration = Duration::from_secs(20);
const TELEMETRY: &str = "/2022-07-01/telemetry";

/// The records in a telemetry log, one JSON object a line.
fn records(log: &Path) -> Vec<Value> {
    read(log)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// An extension subscribed from its own process gets, in order: `platform.initStart`,
/// `platform.initRuntimeDone` and `platform.initReport` (status success, a duration), then for
/// each invocation `platform.start`, `platform.runtimeDone` and `platform.report` carrying that
/// invocation's request id (and its trace header, status, metrics); every line the function
/// wrote (stdout and stderr, at init and per invocation) arrives as a `function` record, and
/// the extension's own lines as `extension` records.
#[test]
fn an_extension_receives_platform_and_function_records_in_order() {
    let dir = scratch("order");
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).unwrap();
    std::os::unix::fs::symlink(example("extension_recorder"), extensions.join("telemetry"))
        .unwrap();
    let log = dir.join("extension.log");
    let telemetry = dir.join("telemetry.log");
    let f = Function::emulated(
        &example("log_lines"),
        &[
            ("EXTENSION_LOG", log.to_str().unwrap()),
            ("TELEMETRY_LOG", telemetry.to_str().unwrap()),
            ("TELEMETRY_TYPES", "platform,function,extension"),
        ],
        &["--extensions-dir", extensions.to_str().unwrap()],
    );
    assert!(
        wait_until(&log, |t| t.contains("subscribed")),
        "{}\n{}",
        read(&log),
        f.output()
    );
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let mut ids = Vec::new();
    for n in 0..3 {
        let r = f.invoke_with(
            &[("X-Amzn-Trace-Id", trace)],
            format!("{{\"n\":{n}}}").as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body_excerpt());
        // The extension sees the invocation's INVOKE: its request id is the one to find.
        let seen = ids.len() + 1;
        assert!(
            wait_until(&log, |t| t.matches("INVOKE ").count() >= seen),
            "{}",
            f.output()
        );
        let id = read(&log)
            .lines()
            .filter_map(|l| l.strip_prefix("INVOKE "))
            .nth(ids.len())
            .unwrap()
            .to_owned();
        ids.push(id);
    }
    let all_there = |text: &str| {
        text.matches("\"platform.report\"").count() >= 3
            && text.contains(&format!("extension_recorder: INVOKE {}", ids[2]))
            && ids
                .iter()
                .all(|id| text.contains(&format!("log_lines: stderr for {id}")))
    };
    assert!(
        wait_until(&telemetry, all_there),
        "{}\n{}",
        read(&telemetry),
        f.output()
    );
    let records = records(&telemetry);
    let platform: Vec<&Value> = records
        .iter()
        .filter(|r| r["type"].as_str().unwrap().starts_with("platform."))
        .collect();
    let types: Vec<&str> = platform
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    let mut expected = vec![
        "platform.initStart",
        "platform.initRuntimeDone",
        "platform.initReport",
    ];
    for _ in &ids {
        expected.extend(["platform.start", "platform.runtimeDone", "platform.report"]);
    }
    assert_eq!(types, expected, "{}", read(&telemetry));
    assert_eq!(platform[0]["record"]["phase"], "init");
    assert_eq!(platform[1]["record"]["status"], "success");
    assert!(
        platform[2]["record"]["metrics"]["durationMs"]
            .as_f64()
            .unwrap()
            >= 0.0
    );
    for (n, id) in ids.iter().enumerate() {
        let [start, done, report] = [0, 1, 2].map(|k| &platform[3 + 3 * n + k]["record"]);
        for record in [start, done, report] {
            assert_eq!(record["requestId"], id.as_str(), "{record}");
            assert_eq!(record["tracing"]["value"], trace, "{record}");
        }
        assert_eq!(done["status"], "success");
        assert_eq!(
            done["metrics"]["producedBytes"],
            format!("{{\"n\":{n}}}").len()
        );
        assert_eq!(report["status"], "success");
        let metrics = &report["metrics"];
        let memory = format!("Memory Size: {} MB", metrics["memorySizeMB"]);
        assert!(f.output().contains(&memory), "{report}");
        assert!(
            metrics["billedDurationMs"].as_u64().unwrap() >= 1,
            "{report}"
        );
        assert!(metrics["durationMs"].as_f64().is_some(), "{report}");
        assert!(metrics["maxMemoryUsedMB"].as_u64().unwrap() > 0, "{report}");
        assert_eq!(
            metrics.get("initDurationMs").is_some(),
            n == 0,
            "init is reported with the first invocation only: {report}"
        );
    }
    for record in &records {
        assert!(
            record["time"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{record}"
        );
    }
    let lines: Vec<&str> = records
        .iter()
        .filter(|r| r["type"] == "function")
        .map(|r| r["record"].as_str().unwrap())
        .collect();
    assert!(lines.contains(&"log_lines: init"), "{lines:?}");
    for id in &ids {
        assert!(
            lines.contains(&format!("log_lines: handling {id}").as_str()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&format!("log_lines: stderr for {id}").as_str()),
            "{lines:?}"
        );
    }
    let extension_lines: Vec<&str> = records
        .iter()
        .filter(|r| r["type"] == "extension")
        .map(|r| r["record"].as_str().unwrap())
        .collect();
    for id in &ids {
        let line = format!("extension_recorder: INVOKE {id}");
        assert!(
            extension_lines.contains(&line.as_str()),
            "{extension_lines:?}"
        );
    }
    // Still printed by the emulator too: capture loses nothing of the output.
    assert!(
        f.output()
            .contains(&format!("log_lines: handling {}", ids[0]))
    );
}

/// Subscribe answers as Lambda's does: 403 without or with an unknown identifier, 400
/// `ValidationError` for a bad body (naming the problem), 200 for a good one. A subscription
/// whose destination nobody listens on loses its records (with a log line) and delays no
/// invocation.
#[test]
fn bad_subscriptions_are_refused_and_a_dead_destination_blocks_nothing() {
    let f = Function::emulated(&example("echo"), &[], &[]);
    let r = call(
        &f,
        "POST",
        "/2020-01-01/extension/register",
        &[("Lambda-Extension-Name", "subscriber")],
        br#"{"events":["INVOKE"]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body_excerpt());
    let id = r.header("lambda-extension-identifier").unwrap().to_owned();
    // The extension waits in next, so invocations can go out.
    let api = f.api_addr.clone();
    let poller_id = id.clone();
    std::thread::spawn(move || {
        loop {
            let r = http::request(
                &api,
                "GET",
                "/2020-01-01/extension/event/next",
                &[("Lambda-Extension-Identifier", &poller_id)],
                b"",
                Duration::from_secs(600),
            );
            if !matches!(r, Ok(ref r) if r.status == 200) {
                return;
            }
        }
    });
    // A port nobody listens on: bound, then released.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let good = format!(
        r#"{{"schemaVersion":"2022-12-13","types":["platform","function"],"buffering":{{"timeoutMs":25}},"destination":{{"protocol":"HTTP","URI":"http://sandbox.localdomain:{dead}/"}}}}"#
    );
    let r = call(&f, "PUT", TELEMETRY, &[], good.as_bytes());
    assert_eq!(r.status, 403);
    assert_eq!(error_type(&r), "Extension.MissingExtensionIdentifier");
    let r = call(
        &f,
        "PUT",
        TELEMETRY,
        &[("Lambda-Extension-Identifier", "nobody")],
        good.as_bytes(),
    );
    assert_eq!(r.status, 403);
    assert_eq!(error_type(&r), "Extension.UnknownExtensionIdentifier");
    for (body, says) in [
        ("{", "not valid JSON"),
        (
            r#"{"schemaVersion":"2022-12-13","types":[],"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:9"}}"#,
            "types should not be empty",
        ),
        (
            r#"{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain"}}"#,
            "URI port is not provided",
        ),
        (
            r#"{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://203.0.113.9:80"}}"#,
            "not on the sandbox",
        ),
        (
            r#"{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"maxItems":20},"destination":{"protocol":"HTTP","URI":"http://sandbox:9"}}"#,
            "buffering.maxItems 20",
        ),
    ] {
        let r = call(
            &f,
            "PUT",
            TELEMETRY,
            &[("Lambda-Extension-Identifier", &id)],
            body.as_bytes(),
        );
        assert_eq!(r.status, 400, "{body}: {}", r.body_excerpt());
        assert_eq!(error_type(&r), "ValidationError", "{body}");
        let message = r.json().unwrap()["errorMessage"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(says), "{body}: {message}");
    }
    let r = call(
        &f,
        "PUT",
        &format!("{TELEMETRY}/"),
        &[("Lambda-Extension-Identifier", &id)],
        good.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body_excerpt());
    assert_eq!(r.body, b"\"OK\"");
    for n in 0..5 {
        let r = f.invoke(format!("{n}").as_bytes());
        assert_eq!(r.status, 200, "{}", r.body_excerpt());
        assert_eq!(r.body, format!("{n}").as_bytes());
    }
    assert!(
        f.wait_for_output("telemetry: dropped", T).is_some(),
        "{}",
        f.output()
    );
}
