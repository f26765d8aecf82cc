//! Response streaming end to end: the `stream` example under `faas-emulator` and in local mode,
//! invoked through `InvokeWithResponseStream`
//! (`POST /2021-11-15/functions/function/response-streaming-invocations`), whose answer is
//! AWS's event stream: `PayloadChunk` messages as the function writes, then `InvokeComplete`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use faas_checks::fixture::{Function, example};
use serde_json::Value;

const STREAM_PATH: &str = "/2021-11-15/functions/function/response-streaming-invocations";

/// One event-stream message as the caller received it.
#[derive(Debug)]
struct Message {
    event_type: String,
    payload: Vec<u8>,
    at: Instant,
}

/// A streaming invocation in progress: the HTTP answer read incrementally.
struct Stream {
    reader: BufReader<TcpStream>,
    status: u16,
    head: String,
    buffered: Vec<u8>,
}

impl Stream {
    fn open(addr: &str, event: &str) -> Self {
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            tcp,
            "POST {STREAM_PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{event}",
            event.len()
        )
        .unwrap();
        let mut reader = BufReader::new(tcp);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            head.push_str(&line);
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        // A whole answer (an error before any chunk, a buffered function) has a length.
        let length = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        });
        let mut buffered = Vec::new();
        if let Some(length) = length {
            buffered.resize(length, 0);
            reader.read_exact(&mut buffered).unwrap();
        }
        Self {
            reader,
            status,
            head,
            buffered,
        }
    }

    /// The next event-stream message, or `None` at the end of the body.
    fn next(&mut self) -> Option<Message> {
        loop {
            if self.buffered.len() >= 12 {
                let total = u32::from_be_bytes(self.buffered[0..4].try_into().unwrap()) as usize;
                if self.buffered.len() >= total {
                    let m: Vec<u8> = self.buffered.drain(..total).collect();
                    return Some(parse(&m));
                }
            }
            if !self
                .head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked")
            {
                assert!(self.buffered.is_empty(), "a partial message");
                return None;
            }
            let mut size = String::new();
            if self.reader.read_line(&mut size).unwrap() == 0 {
                return None;
            }
            let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
            if size == 0 {
                return None;
            }
            let mut data = vec![0; size + 2];
            self.reader.read_exact(&mut data).unwrap();
            data.truncate(size);
            self.buffered.extend_from_slice(&data);
        }
    }

    fn all(mut self) -> Vec<Message> {
        let mut messages = Vec::new();
        while let Some(m) = self.next() {
            messages.push(m);
        }
        messages
    }
}

fn parse(m: &[u8]) -> Message {
    let headers_len = u32::from_be_bytes(m[4..8].try_into().unwrap()) as usize;
    let mut headers = &m[12..12 + headers_len];
    let mut event_type = String::new();
    while !headers.is_empty() {
        let n = headers[0] as usize;
        let name = String::from_utf8(headers[1..1 + n].to_vec()).unwrap();
        assert_eq!(headers[1 + n], 7, "string header");
        let len = u16::from_be_bytes(headers[2 + n..4 + n].try_into().unwrap()) as usize;
        let value = String::from_utf8(headers[4 + n..4 + n + len].to_vec()).unwrap();
        if name == ":event-type" {
            event_type = value;
        }
        headers = &headers[4 + n + len..];
    }
    Message {
        event_type,
        payload: m[12 + headers_len..m.len() - 4].to_vec(),
        at: Instant::now(),
    }
}

fn text(m: &Message) -> &str {
    std::str::from_utf8(&m.payload).unwrap()
}

fn complete(m: &Message) -> Value {
    assert_eq!(m.event_type, "InvokeComplete", "{m:?}");
    serde_json::from_slice(&m.payload).unwrap()
}

#[test]
fn the_caller_holds_the_first_chunk_before_the_second_is_written() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let mut s = Stream::open(
        &f.invoke_addr,
        r#"{"prompt": "first second", "delay_ms": 500}"#,
    );
    assert_eq!(s.status, 200, "{}", s.head);
    assert!(
        s.head
            .to_ascii_lowercase()
            .contains("content-type: application/octet-stream"),
        "the stream's own content type (Lambda's default), not the framing's: {}",
        s.head
    );
    let first = s.next().unwrap();
    let second = s.next().unwrap();
    assert_eq!((text(&first), text(&second)), ("first ", "second "));
    assert!(
        second.at.duration_since(first.at) >= Duration::from_millis(400),
        "the first chunk arrived only {:?} before the second",
        second.at.duration_since(first.at)
    );
    assert_eq!(
        complete(&s.next().unwrap()),
        serde_json::json!({"LogResult": ""})
    );
    assert!(s.next().is_none());
}

#[test]
fn an_error_after_two_chunks_ends_the_stream_with_invoke_complete_error() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let s = Stream::open(
        &f.invoke_addr,
        r#"{"prompt": "a b c", "delay_ms": 1, "fail_after": 2}"#,
    );
    let messages = s.all();
    let texts: Vec<&str> = messages[..2].iter().map(text).collect();
    assert_eq!(texts, ["a ", "b "]);
    let done = complete(&messages[2]);
    assert_eq!(done["ErrorCode"], "TokenLimit", "{done}");
    let details: Value = serde_json::from_str(done["ErrorDetails"].as_str().unwrap()).unwrap();
    assert_eq!(details["errorMessage"], "stopped after 2 tokens");
    assert_eq!(messages.len(), 3);
}

#[test]
fn a_panic_mid_stream_is_the_streams_error_and_the_function_restarts() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let s = Stream::open(
        &f.invoke_addr,
        // The pause before the panic lets the first chunk leave the process: what a function
        // wrote but had not sent when it died is lost, on Lambda as here.
        r#"{"prompt": "a b c", "delay_ms": 200, "panic_after": 1}"#,
    );
    let messages = s.all();
    assert_eq!(text(&messages[0]), "a ");
    let done = complete(messages.last().unwrap());
    assert_eq!(done["ErrorCode"], "Runtime.Panic", "{done}");
    // The process was replaced; the next invocation streams again.
    let again = Stream::open(&f.invoke_addr, r#"{"prompt": "ok", "delay_ms": 1}"#).all();
    assert_eq!(text(&again[0]), "ok ");
}

#[test]
fn a_caller_that_hangs_up_mid_stream_leaves_the_function_healthy() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let mut s = Stream::open(
        &f.invoke_addr,
        r#"{"prompt": "a b c d e f g h", "delay_ms": 100}"#,
    );
    assert_eq!(text(&s.next().unwrap()), "a ");
    drop(s);
    // The function finishes its stream into the void; the next caller is served.
    let again = Stream::open(&f.invoke_addr, r#"{"prompt": "next", "delay_ms": 1}"#).all();
    assert_eq!(text(&again[0]), "next ");
    assert_eq!(complete(&again[1]), serde_json::json!({"LogResult": ""}));
    assert!(
        !f.output().contains("the function process ended"),
        "{}",
        f.output()
    );
}

#[test]
fn a_stream_over_the_limit_is_cut_with_a_clear_error() {
    // A 64 KiB limit set for the test (Lambda's is 200 MB); 100 tokens of ~1 KiB each.
    let f = Function::emulated(&example("stream"), &[], &["--max-stream-bytes", "65536"]);
    let prompt = vec!["x".repeat(1000); 100].join(" ");
    let event = serde_json::json!({"prompt": prompt, "delay_ms": 0}).to_string();
    let messages = Stream::open(&f.invoke_addr, &event).all();
    let bytes: usize = messages[..messages.len() - 1]
        .iter()
        .map(|m| m.payload.len())
        .sum();
    assert!(bytes <= 65536, "{bytes}");
    let done = complete(messages.last().unwrap());
    assert_eq!(done["ErrorCode"], "Function.ResponseSizeTooLarge", "{done}");
    // Healthy afterwards.
    let again = Stream::open(&f.invoke_addr, r#"{"prompt": "ok", "delay_ms": 1}"#).all();
    assert_eq!(text(&again[0]), "ok ");
}

#[test]
fn the_buffered_invoke_of_a_streaming_function_gets_the_whole_body() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let r = f.invoke(br#"{"prompt": "one two", "delay_ms": 1}"#);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"one two ");
}

#[test]
fn the_functions_content_type_reaches_the_caller() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let event = r#"{"prompt": "data:1", "delay_ms": 1, "content_type": "text/event-stream"}"#;
    let s = Stream::open(&f.invoke_addr, event);
    let head = s.head.to_ascii_lowercase();
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    let messages = s.all();
    assert_eq!(text(&messages[0]), "data:1 ");
    assert_eq!(complete(&messages[1]), serde_json::json!({"LogResult": ""}));
    // The buffered Invoke of the same function answers with it too.
    let r = f.invoke(event.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body_excerpt());
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(r.body, b"data:1 ");
    // A value that is no header value fails the stream before its first byte, clearly.
    let bad = r#"{"prompt": "x", "content_type": "text/plain\r\nX-Injected: 1"}"#;
    let messages = Stream::open(&f.invoke_addr, bad).all();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let done = complete(&messages[0]);
    assert_eq!(done["ErrorCode"], "Runtime.InvalidContentType", "{done}");
    // So does an event that is no JSON, as a whole answer (JSON, with a length).
    let s = Stream::open(&f.invoke_addr, "{not json");
    assert!(
        s.head
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{}",
        s.head
    );
    let messages = s.all();
    assert_eq!(
        complete(&messages[0])["ErrorCode"],
        "Runtime.UnmarshalError"
    );
}

#[test]
fn local_mode_streams_too() {
    let f = Function::local(&example("stream"), &[]);
    let messages = Stream::open(&f.invoke_addr, r#"{"prompt": "local mode", "delay_ms": 1}"#).all();
    assert_eq!(text(&messages[0]), "local ");
    assert_eq!(text(&messages[1]), "mode ");
}

#[test]
fn a_thousand_streamed_invocations_keep_memory_flat() {
    let f = Function::emulated(&example("stream"), &[], &[]);
    let rss = || {
        let status = std::fs::read_to_string(format!("/proc/{}/status", f.pid())).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap()
            .to_owned();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let event = r#"{"prompt": "a b c d", "delay_ms": 0}"#;
    for _ in 0..100 {
        assert_eq!(Stream::open(&f.invoke_addr, event).all().len(), 5);
    }
    let before = rss();
    for _ in 0..900 {
        assert_eq!(Stream::open(&f.invoke_addr, event).all().len(), 5);
    }
    let after = rss();
    println!("emulator RSS after 100 streams: {before} KiB; after 1,000: {after} KiB");
    assert!(
        after <= before + 2048,
        "RSS grew from {before} to {after} KiB"
    );
}

#[test]
fn a_stream_past_the_deadline_ends_with_the_timeout() {
    let f = Function::emulated(&example("stream"), &[], &["--timeout", "1"]);
    let messages = Stream::open(&f.invoke_addr, r#"{"prompt": "a b", "delay_ms": 3000}"#).all();
    assert_eq!(text(&messages[0]), "a ");
    let done = complete(messages.last().unwrap());
    assert_eq!(done["ErrorCode"], "Sandbox.Timedout", "{done}");
    // The process is replaced; the next stream works.
    let again = Stream::open(&f.invoke_addr, r#"{"prompt": "ok", "delay_ms": 1}"#).all();
    assert_eq!(text(&again[0]), "ok ");
}
