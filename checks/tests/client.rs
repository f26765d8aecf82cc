//! The runtime's own Runtime API client against an API that misbehaves (issue 20): real
//! function processes (the examples) against the scriptable fake API of
//! `faas_checks::fake_api`. Each of the twelve defects found on 57789b5 has a test here that
//! failed there, and the behaviours that held have theirs. Those that do not count requests
//! run against both of the client's transports ([`TRANSPORTS`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use faas_checks::fake_api::{Exchange, FakeApi, Runtime, Seen};
use faas_checks::fixture::example;

const LONG: Duration = Duration::from_secs(60);

/// The cases that hold whatever the transport run on both: the blocking one (one invocation
/// at a time) and the reactor one (Managed Instances' workers, here two).
const TRANSPORTS: [&[(&str, &str)]; 2] = [&[], &[("AWS_LAMBDA_MAX_CONCURRENCY", "2")]];
const WAIT: Duration = Duration::from_secs(15);

fn is_post_to(seen: &Seen, id: &str, what: &str) -> bool {
    seen.method == "POST" && seen.path.ends_with(&format!("/invocation/{id}/{what}"))
}

fn posted(api: &FakeApi, id: &str, what: &str) -> usize {
    api.count(|s| is_post_to(s, id, what))
}

fn nexts(api: &FakeApi) -> usize {
    api.count(|s| s.method == "GET" && s.path.ends_with("/next"))
}

/// Waits until a POST to `id`'s `what` has arrived; panics with the runtime's output if not.
fn wait_post(api: &FakeApi, rt: &Runtime, id: &str, what: &str) {
    assert!(
        api.wait_for(|seen| seen.iter().any(|s| is_post_to(s, id, what)), WAIT),
        "no POST {id}/{what}; requests {:#?}\noutput:\n{}",
        api.seen().iter().map(|s| &s.path).collect::<Vec<_>>(),
        rt.output()
    );
}

fn warned(rt: &Runtime, needles: &[&str]) -> String {
    rt.wait_for_line(needles, Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no line with {needles:?}; output:\n{}", rt.output()))
}

/// `GET /next` number `n` gets `event(n)`'s answer; later ones wait. POSTs are read and
/// accepted unless `post` handles them (returns true).
fn scripted(
    events: impl Fn(usize, &mut Exchange<'_>) -> bool + Send + Sync + 'static,
    post: impl Fn(&mut Exchange<'_>) -> bool + Send + Sync + 'static,
) -> FakeApi {
    FakeApi::start(move |ex| {
        if ex.is_next() {
            let n = ex.nexts_before();
            if !events(n, ex) {
                ex.stall(LONG);
            }
        } else if !post(ex) {
            ex.accepted();
        }
    })
}

/// The first `GET /next` gets the event `id` with `body`; later ones wait.
fn first(
    id: &'static str,
    body: &'static [u8],
) -> impl Fn(usize, &mut Exchange<'_>) -> bool + Send + Sync + 'static {
    move |n, ex| {
        if n == 0 {
            ex.event(id, body);
        }
        n == 0
    }
}

// 1. A request whose bytes were written is never sent again.

#[test]
fn a_response_whose_answer_is_lost_is_not_sent_again() {
    for env in TRANSPORTS {
        let api = scripted(
            |n, ex| {
                match n {
                    0 => ex.event("a", br#"{"n":1}"#),
                    1 => ex.event("b", br#"{"n":2}"#),
                    _ => return false,
                }
                true
            },
            |ex| {
                if ex.path.contains("/a/") {
                    let _ = ex.body();
                    ex.close();
                    return true;
                }
                false
            },
        );
        let rt = Runtime::start(&example("echo"), &api, env);
        wait_post(&api, &rt, "b", "response");
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(posted(&api, "a", "response"), 1, "{}", rt.output());
        warned(&rt, &["WARN", "a/response", "not sent again"]);
    }
}

#[test]
fn bytes_past_an_answer_do_not_double_the_error_post() {
    for env in TRANSPORTS {
        // The answer to /next is two bytes longer than its Content-Length: those bytes would be
        // read as the start of the /error POST's answer.
        let api = scripted(
            |n, ex| {
                match n {
                    0 => {
                        let head = Exchange::event_head("a", "Content-Length: 2\r\n");
                        ex.send(format!("{head}{{}}xx").as_bytes());
                    }
                    1 => ex.event("b", b"{}"),
                    _ => return false,
                }
                true
            },
            |_| false,
        );
        let rt = Runtime::start(&example("error"), &api, env);
        wait_post(&api, &rt, "b", "error");
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(posted(&api, "a", "error"), 1, "{}", rt.output());
        warned(&rt, &["WARN", "bytes past the end"]);
    }
}

// 2. An early 4xx during a large POST is read and final.

#[test]
fn an_early_413_during_a_large_post_is_final() {
    for env in TRANSPORTS {
        let api = scripted(first("big", br#"{"bytes":7000000}"#), |ex| {
            let _ = ex.body_up_to(256 * 1024);
            ex.answer(
                413,
                &[("Connection", "close")],
                br#"{"errorType":"RequestEntityTooLarge"}"#,
            );
            ex.close();
            true
        });
        let mut rt = Runtime::start(&example("large_response"), &api, env);
        assert!(
            api.wait_for(|seen| seen.len() >= 3, WAIT),
            "the process did not go on to /next: {}",
            rt.output()
        );
        assert_eq!(posted(&api, "big", "response"), 1, "{}", rt.output());
        warned(&rt, &["WARN", "413"]);
        assert_eq!(rt.wait(Duration::from_millis(100)), None, "it exited");
    }
}

// 3. No hot loop on a 2xx /next without a request id, or a 204.

#[test]
fn next_without_a_request_id_or_204_backs_off_then_gives_up() {
    let no_id = FakeApi::start(|ex| ex.answer(200, &[], b"{}"));
    let no_content = FakeApi::start(|ex| ex.send(b"HTTP/1.1 204 No Content\r\n\r\n"));
    let mut runtimes = [
        Runtime::start(&example("echo"), &no_id, &[]),
        Runtime::start(&example("echo"), &no_content, &[]),
    ];
    std::thread::sleep(Duration::from_secs(1));
    for api in [&no_id, &no_content] {
        assert!(nexts(api) <= 6, "{} /next in 1 s", nexts(api));
    }
    for (rt, api) in runtimes.iter_mut().zip([&no_id, &no_content]) {
        let status = rt.wait(WAIT).expect("it gives up");
        assert_eq!(status.code(), Some(1), "{}", rt.output());
        assert_eq!(nexts(api), 7, "{}", rt.output());
        warned(
            rt,
            &["WARN", "with no lambda-runtime-aws-request-id header"],
        );
    }
}

// 4. What is left of a call after SIGTERM is bounded.

#[test]
fn sigterm_bounds_a_post_never_answered_or_read_at_a_trickle() {
    for env in TRANSPORTS {
        let silent = scripted(first("a", b"{}"), |ex| {
            let _ = ex.body();
            ex.stall(LONG);
            true
        });
        let trickle = scripted(first("a", br#"{"bytes":1000000}"#), |ex| {
            let _ = ex.body_at(1024);
            ex.accepted();
            true
        });
        let mut runtimes = [
            Runtime::start(&example("echo"), &silent, env),
            Runtime::start(&example("large_response"), &trickle, env),
        ];
        for (rt, api) in runtimes.iter().zip([&silent, &trickle]) {
            wait_post(api, rt, "a", "response");
        }
        std::thread::sleep(Duration::from_millis(300));
        let signalled = Instant::now();
        for rt in &runtimes {
            rt.signal(libc::SIGTERM);
        }
        for rt in &mut runtimes {
            let status = rt.wait(Duration::from_secs(8));
            assert!(
                status.is_some(),
                "still running 8 s after SIGTERM:\n{}",
                rt.output()
            );
            assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", rt.output());
            warned(rt, &["WARN", "a/response", "not sent again"]);
        }
        assert!(signalled.elapsed() < Duration::from_secs(8));
    }
}

// 5. The panic hook's connect has a timeout.

#[test]
fn the_panic_hook_does_not_wait_minutes_on_a_full_accept_queue() {
    let go = Arc::new(AtomicBool::new(false));
    let go_script = Arc::clone(&go);
    let api = FakeApi::start_with_backlog(1, move |ex| {
        if ex.is_next() && ex.nexts_before() == 0 {
            while !go_script.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
            ex.event("a", b"{}");
        } else {
            ex.stall(LONG);
        }
    });
    let mut rt = Runtime::start(&example("panic"), &api, &[]);
    assert!(
        api.wait_for(|seen| !seen.is_empty(), WAIT),
        "{}",
        rt.output()
    );
    api.stop_accepting();
    // Fill the accept queue: once a connect times out, SYNs are being dropped.
    let addr = api.addr.parse().expect("an address");
    let mut fillers = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(stream) => fillers.push(stream),
            Err(_) => break,
        }
    }
    assert!(fillers.len() < 16, "the accept queue never filled");
    go.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let status = rt.wait(Duration::from_secs(10));
    assert!(
        status.is_some(),
        "the panic hook still waits after 10 s:\n{}",
        rt.output()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    warned(&rt, &["could not report the panic"]);
}

// 6. Interim (1xx) answers are skipped.

#[test]
fn interim_answers_are_skipped_and_requests_stay_in_step() {
    let api = scripted(
        |n, ex| {
            match n {
                0 => {
                    ex.send(b"HTTP/1.1 100 Continue\r\n\r\n");
                    ex.event("a", br#"{"n":1}"#);
                }
                1 => ex.event("b", br#"{"n":2}"#),
                _ => return false,
            }
            true
        },
        |ex| {
            if ex.path.contains("/a/") {
                let _ = ex.body();
                ex.send(
                    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n",
                );
                ex.accepted();
                return true;
            }
            false
        },
    );
    let rt = Runtime::start(&example("echo"), &api, &[]);
    assert!(
        api.wait_for(|seen| seen.len() >= 5, WAIT),
        "{}",
        rt.output()
    );
    std::thread::sleep(Duration::from_millis(300));
    let seen = api.seen();
    let paths: Vec<_> = seen
        .iter()
        .map(|s| s.path.rsplit("/invocation/").next().unwrap_or_default())
        .collect();
    assert_eq!(
        paths,
        ["next", "a/response", "next", "b/response", "next"],
        "{}",
        rt.output()
    );
    assert_eq!(seen[1].body, br#"{"n":1}"#);
    assert_eq!(seen[3].body, br#"{"n":2}"#);
    assert!(!rt.output().contains("WARN"), "{}", rt.output());
}

// 7. Malformed or cut-short /next answers are logged with the reason.

#[test]
fn malformed_and_cut_short_next_answers_are_warned_with_the_reason() {
    for env in TRANSPORTS {
        let api = scripted(
            |n, ex| {
                match n {
                    0 => {
                        ex.send(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n");
                        ex.close();
                    }
                    1 => {
                        let head = Exchange::event_head("cut", "Content-Length: 10\r\n");
                        ex.send(format!("{head}{{\"a").as_bytes());
                        ex.close();
                    }
                    2 => ex.event("c", b"{}"),
                    _ => return false,
                }
                true
            },
            |_| false,
        );
        let rt = Runtime::start(&example("echo"), &api, env);
        wait_post(&api, &rt, "c", "response");
        warned(&rt, &["WARN", "/next", "malformed Content-Length"]);
        warned(
            &rt,
            &["WARN", "/next", "closed 3 bytes into a 10-byte body"],
        );
        assert_eq!(posted(&api, "cut", "response"), 0);
    }
}

// 8. A /next body is capped.

#[test]
fn a_next_body_over_the_cap_is_refused_before_it_is_read() {
    for env in TRANSPORTS {
        let api = scripted(
            |n, ex| {
                match n {
                    0 => {
                        let head = Exchange::event_head("huge", "Content-Length: 2000000000\r\n");
                        ex.send(head.as_bytes());
                        let mib = vec![b'x'; 1024 * 1024];
                        for _ in 0..96 {
                            ex.send(&mib);
                        }
                        ex.close();
                    }
                    1 => {
                        let head = Exchange::event_head("chunks", "Transfer-Encoding: chunked\r\n");
                        ex.send(head.as_bytes());
                        let chunk = format!("10000\r\n{}\r\n", "y".repeat(0x10000));
                        for _ in 0..128 {
                            ex.send(chunk.as_bytes());
                        }
                        ex.close();
                    }
                    2 => ex.event("c", b"{}"),
                    _ => return false,
                }
                true
            },
            |_| false,
        );
        let rt = Runtime::start(&example("echo"), &api, env);
        wait_post(&api, &rt, "c", "response");
        warned(
            &rt,
            &[
                "WARN",
                "a body of 2000000000 bytes, over the client's limit",
            ],
        );
        warned(&rt, &["WARN", "over the client's limit"]);
        assert_eq!(posted(&api, "huge", "response"), 0);
        assert_eq!(posted(&api, "chunks", "response"), 0, "{}", rt.output());
        let peak = rt.peak_rss_kib();
        assert!(peak > 0 && peak < 48 * 1024, "peak RSS {peak} KiB");
    }
}

// 9. Chunked bodies are decoded in linear time.

/// Sends `wire` in 4 KiB writes, a pause between them, so the client reads it in many pieces.
fn paced(ex: &mut Exchange<'_>, wire: &[u8]) {
    for piece in wire.chunks(4096) {
        ex.send(piece);
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_chunked_event_in_tiny_chunks_costs_about_what_a_framed_one_does() {
    let text = "z".repeat(1024 * 1024);
    let event = format!("\"{text}\"").into_bytes();
    let api = scripted(
        move |n, ex| {
            match n {
                0 => {
                    let mut wire = Exchange::event_head(
                        "framed",
                        &format!("Content-Length: {}\r\n", event.len()),
                    )
                    .into_bytes();
                    wire.extend_from_slice(&event);
                    paced(ex, &wire);
                }
                1 => {
                    let mut wire =
                        Exchange::event_head("chunked", "Transfer-Encoding: chunked\r\n")
                            .into_bytes();
                    for chunk in event.chunks(4) {
                        wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                        wire.extend_from_slice(chunk);
                        wire.extend_from_slice(b"\r\n");
                    }
                    wire.extend_from_slice(b"0\r\n\r\n");
                    paced(ex, &wire);
                }
                _ => return false,
            }
            true
        },
        |_| false,
    );
    let rt = Runtime::start(&example("echo"), &api, &[]);
    assert!(api.wait_for(|seen| !seen.is_empty(), WAIT));
    let idle = rt.cpu_time();
    wait_post(&api, &rt, "framed", "response");
    let framed = rt.cpu_time() - idle;
    wait_post(&api, &rt, "chunked", "response");
    let chunked = rt.cpu_time() - idle - framed;
    assert!(api.wait_for(|seen| seen.len() >= 5, WAIT));
    let seen = api.seen();
    eprintln!("CPU: framed {framed:?}, chunked {chunked:?}");
    assert_eq!(seen[3].body.len(), 1024 * 1024 + 2);
    // Quadratic decoding took seconds here; linear takes about what the framed event does.
    assert!(
        chunked < framed * 5 + Duration::from_millis(300),
        "chunked {chunked:?}, framed {framed:?}"
    );
}

// 10. Dot segments are no request ids.

#[test]
fn dot_and_dot_dot_request_ids_are_refused() {
    for env in TRANSPORTS {
        let api = scripted(
            |n, ex| {
                match n {
                    0 => ex.event("..", b"{}"),
                    1 => ex.event(".", b"{}"),
                    2 => ex.event("a/b", b"{}"),
                    3 => ex.event("ok", b"{}"),
                    _ => return false,
                }
                true
            },
            |_| false,
        );
        let rt = Runtime::start(&example("echo"), &api, env);
        wait_post(&api, &rt, "ok", "response");
        let posts: Vec<_> = api
            .seen()
            .into_iter()
            .filter(|s| s.method == "POST")
            .map(|s| s.path)
            .collect();
        assert_eq!(posts, ["/2018-06-01/runtime/invocation/ok/response"]);
        warned(&rt, &["WARN", "cannot go into a path", "\"..\""]);
        warned(&rt, &["WARN", "cannot go into a path", "\".\""]);
    }
}

// 11. A streamed response retries its connect like a buffered one.

#[test]
fn a_streamed_response_retries_its_connect() {
    for env in TRANSPORTS {
        let api = scripted(
            |n, ex| {
                if n == 0 {
                    ex.go_away(Duration::from_millis(500));
                    std::thread::sleep(Duration::from_millis(30));
                    let body = br#"{"prompt":"one two three","delay_ms":10}"#;
                    let head = Exchange::event_head(
                        "s",
                        &format!("Connection: close\r\nContent-Length: {}\r\n", body.len()),
                    );
                    let mut wire = head.into_bytes();
                    wire.extend_from_slice(body);
                    ex.send(&wire);
                    ex.close();
                    return true;
                }
                false
            },
            |_| false,
        );
        let rt = Runtime::start(&example("stream"), &api, env);
        wait_post(&api, &rt, "s", "response");
        assert!(
            api.wait_for(|seen| seen.len() >= 3, WAIT),
            "{}",
            rt.output()
        );
        let post = api
            .seen()
            .into_iter()
            .find(|s| is_post_to(s, "s", "response"));
        let body = post.map(|p| p.body).unwrap_or_default();
        assert!(
            body == b"one two three ",
            "{:?}",
            String::from_utf8_lossy(&body)
        );
    }
}

// 12. The smaller ones.

#[test]
fn the_attempts_named_are_the_requests_made() {
    let api = scripted(
        |n, ex| {
            if n == 0 {
                ex.event("a", b"{}");
            } else {
                ex.close();
            }
            true
        },
        |_| false,
    );
    let mut rt = Runtime::start(&example("echo"), &api, &[]);
    let status = rt.wait(WAIT).expect("it gives up");
    assert_eq!(status.code(), Some(1));
    let line = warned(&rt, &["after", "attempts"]);
    let attempts = nexts(&api) - 1;
    assert!(
        line.contains(&format!("after {attempts} attempts")),
        "{attempts} requests: {line}"
    );
}

#[test]
fn a_signed_content_length_is_malformed() {
    for env in TRANSPORTS {
        let api = scripted(
            |n, ex| {
                match n {
                    0 => {
                        let head = Exchange::event_head("plus", "Content-Length: +12\r\n");
                        ex.send(format!("{head}{{\"n\":\"abcd\"}}").as_bytes());
                    }
                    1 => ex.event("ok", b"{}"),
                    _ => return false,
                }
                true
            },
            |_| false,
        );
        let rt = Runtime::start(&example("echo"), &api, env);
        wait_post(&api, &rt, "ok", "response");
        assert_eq!(posted(&api, "plus", "response"), 0);
        warned(&rt, &["WARN", "malformed Content-Length \"+12\""]);
    }
}

#[test]
fn both_framings_or_a_close_option_end_the_connection() {
    for extra in [
        "Content-Length: 100\r\nTransfer-Encoding: chunked\r\n",
        "Connection: close, x\r\nContent-Length: 2\r\n",
    ] {
        let chunked = extra.contains("chunked");
        let extra = extra.to_owned();
        let api = scripted(
            move |n, ex| {
                if n != 0 {
                    return false;
                }
                let head = Exchange::event_head("a", &extra);
                let body = if chunked {
                    "2\r\n{}\r\n0\r\n\r\n"
                } else {
                    "{}"
                };
                ex.send(format!("{head}{body}").as_bytes());
                true
            },
            |_| false,
        );
        let rt = Runtime::start(&example("echo"), &api, &[]);
        wait_post(&api, &rt, "a", "response");
        let seen = api.seen();
        assert_ne!(seen[0].conn, seen[1].conn, "reused after {:?}", seen[0]);
        assert_eq!(seen[1].body, b"{}");
    }
}

#[test]
fn a_huge_error_body_is_logged_as_an_excerpt() {
    for env in TRANSPORTS {
        let api = scripted(
            |n, ex| {
                match n {
                    0 => ex.answer(500, &[], &vec![b'E'; 4 * 1024 * 1024]),
                    1 => ex.event("ok", b"{}"),
                    _ => return false,
                }
                true
            },
            |_| false,
        );
        let rt = Runtime::start(&example("echo"), &api, env);
        wait_post(&api, &rt, "ok", "response");
        let line = warned(&rt, &["500", "(4194304 bytes in all)"]);
        assert!(line.len() < 1024, "{} bytes", line.len());
        assert!(rt.output().len() < 64 * 1024);
    }
}

// Behaviours that held on 57789b5, kept.

#[test]
fn refusals_back_off_then_the_process_exits_1() {
    let apis = [500, 429, 410]
        .map(|status| FakeApi::start(move |ex| ex.answer(status, &[], br#"{"errorType":"X"}"#)));
    let mut runtimes: Vec<_> = apis
        .iter()
        .map(|api| Runtime::start(&example("echo"), api, &[]))
        .collect();
    for (rt, api) in runtimes.iter_mut().zip(&apis) {
        let status = rt.wait(WAIT).expect("it gives up");
        assert_eq!(status.code(), Some(1), "{}", rt.output());
        assert_eq!(nexts(api), 7);
        warned(rt, &["after 7 attempts"]);
    }
}

#[test]
fn sigterm_while_idle_or_mid_post_delivers_whole_and_exits_0() {
    for env in TRANSPORTS {
        let idle = FakeApi::start(|ex| ex.stall(LONG));
        let slow = scripted(first("a", br#"{"bytes":6000000}"#), |ex| {
            let _ = ex.body_at(8 * 1024 * 1024);
            ex.accepted();
            true
        });
        let mut quiet = Runtime::start(&example("echo"), &idle, env);
        let mut busy = Runtime::start(&example("large_response"), &slow, env);
        assert!(idle.wait_for(|seen| !seen.is_empty(), WAIT));
        wait_post(&slow, &busy, "a", "response");
        std::thread::sleep(Duration::from_millis(150));
        quiet.signal(libc::SIGTERM);
        busy.signal(libc::SIGTERM);
        for rt in [&mut quiet, &mut busy] {
            let status = rt.wait(Duration::from_secs(8)).expect("it exits");
            assert_eq!(status.code(), Some(0), "{}", rt.output());
        }
        let post = slow
            .seen()
            .into_iter()
            .find(|s| is_post_to(s, "a", "response"));
        assert_eq!(post.map(|p| p.body.len()), Some(6_000_000));
    }
}

#[test]
fn a_panic_is_posted_at_once_and_a_failed_stream_keeps_its_trailers() {
    let panics = scripted(first("p", b"{}"), |_| false);
    let stream = scripted(
        first("s", br#"{"prompt":"a b c","delay_ms":1,"fail_after":2}"#),
        |_| false,
    );
    let mut panicking = Runtime::start(&example("panic"), &panics, &[]);
    let failing = Runtime::start(&example("stream"), &stream, &[]);
    wait_post(&panics, &panicking, "p", "error");
    assert!(panicking.wait(Duration::from_secs(5)).is_some());
    let error = panics
        .seen()
        .into_iter()
        .find(|s| is_post_to(s, "p", "error"));
    let error = error.expect("the error");
    assert_eq!(
        error.header("lambda-runtime-function-error-type"),
        Some("Runtime.Panic")
    );
    wait_post(&stream, &failing, "s", "response");
    assert!(stream.wait_for(|seen| seen.len() >= 3, WAIT));
    let post = stream
        .seen()
        .into_iter()
        .find(|s| is_post_to(s, "s", "response"));
    let body = String::from_utf8(post.expect("the stream").body).expect("text");
    assert!(
        body.to_ascii_lowercase()
            .starts_with("a b [trailer lambda-runtime-function-error-type: tokenlimit]"),
        "{body}"
    );
    assert!(body.contains("[trailer lambda-runtime-function-error-body: eyJ"));
}
