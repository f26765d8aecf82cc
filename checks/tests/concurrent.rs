//! The runtime under Lambda Managed Instances (issue 16): with `AWS_LAMBDA_MAX_CONCURRENCY`
//! = N, N invocations run at once, each answered to its own request id with its own result and
//! trace id. Real function processes (the examples) against the scriptable fake API of
//! `faas_checks::fake_api`, which serves every connection on a thread of its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use faas_checks::fake_api::{Exchange, FakeApi, Runtime, Seen};
use faas_checks::fixture::example;

const LONG: Duration = Duration::from_secs(120);
const WAIT: Duration = Duration::from_secs(30);

fn is_post(seen: &Seen, what: &str) -> bool {
    seen.method == "POST" && seen.path.ends_with(what)
}

/// The request id a post is for (`…/invocation/{id}/response`).
fn post_id(seen: &Seen) -> &str {
    let mut parts = seen.path.rsplit('/');
    parts.next();
    parts.next().unwrap_or_default()
}

/// Hands out `total` events, event `k` (from 0) being `event(k)`: (request id, extra head
/// lines, body); later `/next` calls wait. Posts are read and accepted.
fn api(
    total: usize,
    event: impl Fn(usize) -> (String, String, Vec<u8>) + Send + Sync + 'static,
) -> FakeApi {
    let handed = AtomicUsize::new(0);
    FakeApi::start(move |ex: &mut Exchange<'_>| {
        if !ex.is_next() {
            ex.accepted();
            return;
        }
        let k = handed.fetch_add(1, Ordering::SeqCst);
        if k >= total {
            ex.stall(LONG);
            return;
        }
        let (id, extra, body) = event(k);
        let head = Exchange::event_head(&id, &format!("{extra}Content-Length: {}\r\n", body.len()));
        let mut wire = head.into_bytes();
        wire.extend_from_slice(&body);
        ex.send(&wire);
    })
}

/// Waits for `n` posts to `what` with a body: a post is seen from its head on, and its
/// body fills as it is read.
fn wait_posts(api: &FakeApi, rt: &Runtime, what: &str, n: usize) {
    let done = |s: &Seen| is_post(s, what) && !s.body.is_empty();
    assert!(
        api.wait_for(|seen| seen.iter().filter(|s| done(s)).count() >= n, WAIT),
        "fewer than {n} {what} posts: {}\noutput:\n{}",
        api.count(|s| is_post(s, what)),
        rt.output()
    );
}

#[test]
fn n_sleeping_invocations_take_about_one_sleep_not_n() {
    const N: usize = 8;
    let api = api(N, |k| {
        (
            format!("nap-{k}"),
            String::new(),
            br#"{"ms":1000}"#.to_vec(),
        )
    });
    let rt = Runtime::start(
        &example("sleep"),
        &api,
        &[("AWS_LAMBDA_MAX_CONCURRENCY", "8")],
    );
    assert!(
        api.wait_for(|seen| seen.len() >= N, WAIT),
        "{}",
        rt.output()
    );
    let started = Instant::now();
    wait_posts(&api, &rt, "/response", N);
    let took = started.elapsed();
    // One at a time it takes 8 s; at once, about 1 s. The bound is loose for a loaded machine.
    assert!(
        took < Duration::from_secs(5),
        "{N} one-second sleeps took {took:?}"
    );
    let mut ids: Vec<_> = api
        .seen()
        .iter()
        .filter(|s| is_post(s, "/response"))
        .map(|s| post_id(s).to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), N, "each invocation answered once");
}

#[test]
fn thousands_of_concurrent_invocations_each_get_their_own_answer_and_trace() {
    const N: usize = 8;
    const TOTAL: usize = 2000;
    let trace = |k: usize| format!("Root=1-{k:08x}-{k:024x};Parent={k:016x};Sampled=1");
    let api = api(TOTAL, move |k| {
        (
            format!("req-{k}"),
            format!("Lambda-Runtime-Trace-Id: {}\r\n", trace(k)),
            format!(r#"{{"k":{k},"pad":"{}"}}"#, "x".repeat(k % 97)).into_bytes(),
        )
    });
    let rt = Runtime::start(
        &example("context"),
        &api,
        &[("AWS_LAMBDA_MAX_CONCURRENCY", "8")],
    );
    wait_posts(&api, &rt, "/response", TOTAL);
    let seen = api.seen();
    let posts: Vec<&Seen> = seen.iter().filter(|s| is_post(s, "/response")).collect();
    assert_eq!(posts.len(), TOTAL, "no invocation answered twice");
    let mut answered = HashMap::new();
    let mut conns = std::collections::HashSet::new();
    for post in posts {
        let id = post_id(post);
        let k: usize = id
            .trim_start_matches("req-")
            .parse()
            .expect("an id we gave");
        let body: serde_json::Value = serde_json::from_slice(&post.body).expect("JSON");
        assert_eq!(
            body["context"]["requestId"], id,
            "the answer is its own event's"
        );
        assert_eq!(body["context"]["xrayTraceId"], trace(k));
        assert_eq!(
            body["traceId"],
            trace(k),
            "the task-local trace id is its own"
        );
        assert!(
            body["traceEnv"].is_null(),
            "the environment is not per invocation under concurrency: {body}"
        );
        assert!(answered.insert(k, ()).is_none());
        conns.insert(post.conn);
    }
    assert_eq!(answered.len(), TOTAL);
    assert!(
        conns.len() >= N,
        "{N} workers post on {N} connections of their own, saw {}",
        conns.len()
    );
    assert!(
        api.count(|s| is_post(s, "/error")) == 0,
        "no errors:\n{}",
        rt.output()
    );
}

#[test]
fn log_lines_carry_each_invocations_own_request_id() {
    // The echo example logs nothing; the sleep example's deadline warning does not exist
    // either: the runtime's own per-invocation warning (a failed invocation) is the log line.
    const TOTAL: usize = 64;
    let api = api(TOTAL, |k| {
        let body = if k % 2 == 0 {
            r#"{"ms":20}"#
        } else {
            r#"{"ms":"no"}"#
        };
        (format!("log-{k}"), String::new(), body.as_bytes().to_vec())
    });
    let rt = Runtime::start(
        &example("sleep"),
        &api,
        &[
            ("AWS_LAMBDA_MAX_CONCURRENCY", "4"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ],
    );
    wait_posts(&api, &rt, "/error", TOTAL / 2);
    wait_posts(&api, &rt, "/response", TOTAL / 2);
    let output = rt.output();
    let failures: Vec<serde_json::Value> = output
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.contains("invocation failed"))
        })
        .collect();
    assert_eq!(failures.len(), TOTAL / 2, "{output}");
    for line in failures {
        let id = line["requestId"]
            .as_str()
            .expect("a request id on the line");
        let k: usize = id
            .trim_start_matches("log-")
            .parse()
            .expect("an id we gave");
        assert_eq!(k % 2, 1, "only odd events fail: {line}");
    }
}

#[test]
fn a_panic_fails_its_own_invocation_and_the_others_go_on() {
    // The examples are built with unwinding (debug): the worker catches the panic after the
    // hook has posted it. (With `panic = "abort"` the process ends instead; the emulator's
    // tests cover what Lambda does then.)
    const TOTAL: usize = 12;
    let api = api(TOTAL, |k| (format!("p-{k}"), String::new(), b"{}".to_vec()));
    let mut rt = Runtime::start(
        &example("panic"),
        &api,
        &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")],
    );
    wait_posts(&api, &rt, "/error", TOTAL);
    let seen = api.seen();
    let errors: Vec<&Seen> = seen.iter().filter(|s| is_post(s, "/error")).collect();
    assert_eq!(errors.len(), TOTAL, "each panic posted once");
    for error in errors {
        assert_eq!(
            error.header("lambda-runtime-function-error-type"),
            Some("Runtime.Panic")
        );
    }
    assert!(
        rt.wait(Duration::from_millis(300)).is_none(),
        "the process goes on:\n{}",
        rt.output()
    );
}

#[test]
fn sigterm_with_n_in_flight_posts_every_one_then_exits_0() {
    const N: usize = 4;
    let api = api(N, |k| {
        (format!("t-{k}"), String::new(), br#"{"ms":1500}"#.to_vec())
    });
    let mut rt = Runtime::start(
        &example("sleep"),
        &api,
        &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")],
    );
    // Every worker holds an event, and (the total reached) nothing more is handed out.
    assert!(
        api.wait_for(|seen| seen.len() >= N, WAIT),
        "{}",
        rt.output()
    );
    std::thread::sleep(Duration::from_millis(200));
    rt.signal(libc::SIGTERM);
    let status = rt.wait(Duration::from_secs(10)).expect("it exits");
    assert_eq!(status.code(), Some(0), "{}", rt.output());
    assert_eq!(api.count(|s| is_post(s, "/response")), N, "{}", rt.output());
}

#[test]
fn an_idle_pool_stops_at_once_on_sigterm() {
    let api = api(0, |_| unreachable!());
    let mut rt = Runtime::start(
        &example("echo"),
        &api,
        &[("AWS_LAMBDA_MAX_CONCURRENCY", "16")],
    );
    assert!(
        api.wait_for(|seen| seen.len() >= 16, WAIT),
        "{}",
        rt.output()
    );
    let signalled = Instant::now();
    rt.signal(libc::SIGTERM);
    let status = rt.wait(Duration::from_secs(5)).expect("it exits");
    assert_eq!(status.code(), Some(0), "{}", rt.output());
    assert!(signalled.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_bad_max_concurrency_is_an_init_error_naming_the_variable() {
    let inits = Arc::new(AtomicUsize::new(0));
    let seen_inits = Arc::clone(&inits);
    let api = FakeApi::start(move |ex| {
        if ex.path.ends_with("/init/error") {
            seen_inits.fetch_add(1, Ordering::SeqCst);
        }
        if ex.is_next() {
            ex.stall(LONG);
        } else {
            ex.accepted();
        }
    });
    let mut rt = Runtime::start(
        &example("echo"),
        &api,
        &[("AWS_LAMBDA_MAX_CONCURRENCY", "zero")],
    );
    let status = rt.wait(Duration::from_secs(10)).expect("it exits");
    assert!(!status.success());
    assert_eq!(inits.load(Ordering::SeqCst), 1);
    let post = api
        .seen()
        .into_iter()
        .find(|s| s.path.ends_with("/init/error"))
        .expect("the init error");
    assert_eq!(
        post.header("lambda-runtime-function-error-type"),
        Some("Runtime.ConfigError")
    );
    assert!(String::from_utf8_lossy(&post.body).contains("AWS_LAMBDA_MAX_CONCURRENCY"));
}

#[test]
fn streamed_and_http_responses_run_concurrently_too() {
    const TOTAL: usize = 16;
    let streams = api(TOTAL, |k| {
        let body = format!(r#"{{"prompt":"s{k} t{k} u{k}","delay_ms":100}}"#);
        (format!("s-{k}"), String::new(), body.into_bytes())
    });
    let rt = Runtime::start(
        &example("stream"),
        &streams,
        &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")],
    );
    let started = Instant::now();
    // A post is seen from its head on; its body fills as the stream arrives.
    let whole = |seen: &[Seen]| {
        seen.iter()
            .filter(|s| is_post(s, "/response") && s.body.ends_with(b" "))
            .filter(|s| String::from_utf8_lossy(&s.body).split(' ').count() == 4)
            .count()
    };
    assert!(
        streams.wait_for(|seen| whole(seen) >= TOTAL, WAIT),
        "{}",
        rt.output()
    );
    // Each stream takes 200 ms of delays: 3.2 s one at a time, about 0.8 s four at once.
    assert!(
        started.elapsed() < Duration::from_millis(2600),
        "{TOTAL} streams took {:?}",
        started.elapsed()
    );
    for post in streams.seen().iter().filter(|s| is_post(s, "/response")) {
        let k = post_id(post).trim_start_matches("s-");
        assert_eq!(
            String::from_utf8_lossy(&post.body),
            format!("s{k} t{k} u{k} "),
            "the stream is its own event's"
        );
        assert_eq!(
            post.header("lambda-runtime-function-response-mode"),
            Some("streaming")
        );
    }
    let url_event = |k: usize| {
        serde_json::json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": format!("/pets/{k}"),
            "rawQueryString": "",
            "headers": {"host": "abc.lambda-url.us-east-1.on.aws"},
            "requestContext": {
                "http": {"method": "GET", "path": format!("/pets/{k}"), "protocol": "HTTP/1.1",
                         "sourceIp": "127.0.0.1", "userAgent": "test"},
                "domainName": "abc.lambda-url.us-east-1.on.aws",
                "requestId": format!("h-{k}"),
                "routeKey": "$default",
                "stage": "$default",
                "timeEpoch": 0
            },
            "isBase64Encoded": false
        })
        .to_string()
        .into_bytes()
    };
    let http = api(TOTAL, move |k| {
        (format!("h-{k}"), String::new(), url_event(k))
    });
    let rt = Runtime::start(
        &example("http_axum"),
        &http,
        &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")],
    );
    wait_posts(&http, &rt, "/response", TOTAL);
    for post in http.seen().iter().filter(|s| is_post(s, "/response")) {
        let k = post_id(post).trim_start_matches("h-");
        let answer: serde_json::Value = serde_json::from_slice(&post.body).expect("JSON");
        let body = answer["body"].as_str().expect("a text body");
        if k == "1" {
            assert_eq!(answer["statusCode"], 200, "{answer}");
            assert!(body.contains(r#""id":1"#), "{body}");
        } else {
            assert_eq!(answer["statusCode"], 404, "{answer}");
            assert!(body.contains(&format!("no pet {k}")), "pet {k}: {body}");
        }
    }
}
