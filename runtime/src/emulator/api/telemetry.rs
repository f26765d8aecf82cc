//! The Telemetry API on the Runtime API port: `PUT /2022-07-01/telemetry` from a registered
//! extension, read and checked as Lambda does (`400 ValidationError` for a bad body, `403` for
//! a missing or unknown `Lambda-Extension-Identifier`), and the sender that posts each
//! subscription's batches (JSON arrays) to its HTTP destination on the sandbox.
//!
//! Parsing ([`parse_subscription`]) is I/O-free and fuzzed. The sender is one thread per
//! subscription with a blocking socket: it only ever waits on its own outbox and its own
//! destination, so a destination that is down or slow costs its subscriber records (retried,
//! then dropped with a log line), never an invocation its time.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};

use super::Reply;
use crate::emulator::api;
use crate::emulator::core::Sandbox;
use crate::emulator::core::telemetry::{
    Buffering, Destination, EXTENSION, FUNCTION, Outbox, PLATFORM, Subscription, bounds,
};
use crate::lifecycle::IDENTIFIER_HEADER;
use crate::server;

/// The Telemetry API's path (a trailing `/` is accepted too).
pub(crate) const PREFIX: &str = "/2022-07-01/telemetry";

/// The schema versions Lambda accepts; records are sent in 2022-12-13's shape whichever is asked.
const SCHEMA_VERSIONS: [&str; 3] = ["2022-07-01", "2022-12-13", "2025-01-29"];
/// Attempts to post one batch before it is dropped.
const ATTEMPTS: u32 = 3;
/// Time to connect to a destination, and to write a batch and read its answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);

/// Routes one Telemetry API request.
pub(crate) async fn handle(
    sandbox: Arc<Sandbox>,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Reply {
    let path = request.uri().path();
    if path != PREFIX && path.strip_prefix(PREFIX) != Some("/") {
        return api::error(
            StatusCode::NOT_FOUND,
            crate::protocol::error_type::API_NOT_FOUND,
            &format!("no Telemetry API route {path}"),
        );
    }
    if request.method() != Method::PUT {
        return api::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the Telemetry API takes PUT only",
        );
    }
    let Some(id) = request
        .headers()
        .get(IDENTIFIER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return api::error(
            StatusCode::FORBIDDEN,
            "Extension.MissingExtensionIdentifier",
            "the Lambda-Extension-Identifier header is missing",
        );
    };
    let Some(name) = sandbox.extensions.name_of(&id) else {
        return api::error(
            StatusCode::FORBIDDEN,
            "Extension.UnknownExtensionIdentifier",
            "no extension is registered under this Lambda-Extension-Identifier",
        );
    };
    let body = match server::read_body(request.into_body(), None, body_timeout).await {
        Ok(body) => body.bytes,
        Err(e) => {
            return api::body_error(&e, || invalid("the subscribe body is too large".to_owned()));
        }
    };
    let subscription = match parse_subscription(&body) {
        Ok(subscription) => subscription,
        Err(why) => return invalid(why),
    };
    let outbox = sandbox
        .extensions
        .telemetry
        .subscribe(&id, &name, subscription);
    let thread = std::thread::Builder::new()
        .name(format!("telemetry-{name}"))
        .spawn(move || send(&outbox));
    if let Err(e) = thread {
        return api::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            &format!("cannot start the telemetry sender: {e}"),
        );
    }
    api::json(StatusCode::OK, "\"OK\"")
}

fn invalid(why: String) -> Reply {
    api::error(StatusCode::BAD_REQUEST, "ValidationError", &why)
}

/// A subscribe body as Lambda validates it: `schemaVersion`, `destination` (`HTTP` to a URI on
/// the sandbox, with a port), `types` (not empty) and `buffering` within Lambda's bounds
/// (defaults for what is absent). The error is the `errorMessage` of a `ValidationError`.
pub(crate) fn parse_subscription(body: &[u8]) -> Result<Subscription, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        schema_version: Option<String>,
        destination: Option<Dest>,
        types: Option<Vec<String>>,
        buffering: Option<Buffer>,
    }
    #[derive(serde::Deserialize)]
    struct Dest {
        protocol: Option<String>,
        #[serde(rename = "URI")]
        uri: Option<String>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Buffer {
        max_items: Option<u64>,
        max_bytes: Option<u64>,
        timeout_ms: Option<u64>,
    }
    let body: Body = serde_json::from_slice(body)
        .map_err(|e| format!("the subscribe body is not valid JSON of Lambda's shape: {e}"))?;
    let mut problems = Vec::new();
    match body.schema_version.as_deref() {
        Some(v) if SCHEMA_VERSIONS.contains(&v) => {}
        Some(v) => problems.push(format!(
            "schemaVersion {v:?} is not one of {}",
            SCHEMA_VERSIONS.join(", ")
        )),
        None => problems.push("schemaVersion is missing".to_owned()),
    }
    let destination = match body.destination {
        None => Err("destination is missing".to_owned()),
        Some(d) => match (d.protocol.as_deref(), d.uri.as_deref()) {
            (Some("HTTP"), Some(uri)) => parse_uri(uri),
            (Some("TCP"), _) => {
                Err("destination protocol TCP is not supported by this emulator: use HTTP".into())
            }
            (Some(p), _) if p != "HTTP" => Err(format!("destination protocol {p:?} is not HTTP")),
            (None, _) => Err("destination protocol is missing".to_owned()),
            _ => Err("destination URI is missing".to_owned()),
        },
    };
    let destination = destination.map_err(|e| problems.push(e)).ok();
    let mut types = 0;
    match body.types.as_deref() {
        None | Some([]) => problems.push("types should not be empty".to_owned()),
        Some(names) => {
            for name in names {
                match name.as_str() {
                    "platform" => types |= PLATFORM,
                    "function" => types |= FUNCTION,
                    "extension" => types |= EXTENSION,
                    other => problems.push(format!(
                        "type {other:?} is not platform, function or extension"
                    )),
                }
            }
        }
    }
    let buffering = body.buffering.unwrap_or(Buffer {
        max_items: None,
        max_bytes: None,
        timeout_ms: None,
    });
    let mut bounded =
        |name: &str, value: Option<u64>, range: std::ops::RangeInclusive<u64>, default| {
            let value = value.unwrap_or(default);
            if !range.contains(&value) {
                problems.push(format!(
                    "buffering.{name} {value} is outside {}..={}",
                    range.start(),
                    range.end()
                ));
            }
            value
        };
    let max_items = bounded(
        "maxItems",
        buffering.max_items,
        bounds::MAX_ITEMS,
        bounds::DEFAULT_MAX_ITEMS,
    );
    let max_bytes = bounded(
        "maxBytes",
        buffering.max_bytes,
        bounds::MAX_BYTES,
        bounds::DEFAULT_MAX_BYTES,
    );
    let timeout_ms = bounded(
        "timeoutMs",
        buffering.timeout_ms,
        bounds::TIMEOUT_MS,
        bounds::DEFAULT_TIMEOUT_MS,
    );
    match destination {
        Some(destination) if problems.is_empty() => Ok(Subscription {
            types,
            buffering: Buffering {
                max_items: max_items as usize,
                max_bytes: max_bytes as usize,
                timeout: Duration::from_millis(timeout_ms),
            },
            destination,
        }),
        _ => Err(problems.join("; ")),
    }
}

/// `http://HOST:PORT[/PATH]` with HOST on the sandbox: `sandbox.localdomain` (Lambda's name for
/// it), `sandbox`, `localhost` or a loopback address.
fn parse_uri(uri: &str) -> Result<Destination, String> {
    let rest = uri
        .strip_prefix("http://")
        .ok_or_else(|| format!("URI {uri:?} is not http://HOST:PORT"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    if !path.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("URI {uri:?} has a malformed path"));
    }
    let (host, port) = authority
        .rsplit_once(':')
        .filter(|(host, _)| !host.ends_with(':') || host.starts_with('['))
        .ok_or_else(|| format!("URI port is not provided in {uri:?}"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("URI port {port:?} is not a port"))?;
    let ip = match host.to_ascii_lowercase().as_str() {
        "sandbox.localdomain" | "sandbox" | "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        other => other
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok()
            .filter(IpAddr::is_loopback)
            .ok_or_else(|| {
                format!(
                    "URI host {host:?} is not on the sandbox: use sandbox.localdomain (or a loopback address)"
                )
            })?,
    };
    Ok(Destination {
        addr: SocketAddr::new(ip, port),
        host: authority.to_owned(),
        path,
        uri: uri.to_owned(),
    })
}

/// The sender of one subscription: each batch posted, retried, then dropped with a log line.
fn send(outbox: &Outbox) {
    let destination = &outbox.subscription.destination;
    while let Some((batch, count)) = outbox.next_batch() {
        let mut last_error = String::new();
        let delivered = (0..ATTEMPTS).any(|attempt| {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(100) * 2u32.pow(attempt - 1));
            }
            match post(destination, batch.as_bytes()) {
                Ok(()) => true,
                Err(e) => {
                    last_error = e;
                    false
                }
            }
        });
        if !delivered {
            tracing::warn!(
                "telemetry: dropped {count} records for extension {}: {} answered no 2xx after {ATTEMPTS} attempts ({last_error})",
                outbox.name,
                destination.uri
            );
        }
    }
}

/// One `POST` of `body` (a JSON array); `Ok` on a 2xx answer.
fn post(destination: &Destination, body: &[u8]) -> Result<(), String> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect_timeout(&destination.addr, CONNECT_TIMEOUT)
        .map_err(|e| format!("cannot connect: {e}"))?;
    let _ = stream.set_read_timeout(Some(EXCHANGE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(EXCHANGE_TIMEOUT));
    let mut head = Vec::with_capacity(256);
    crate::http1::request_head(
        &mut head,
        "POST",
        &[&destination.path],
        destination.host.as_bytes(),
        &[
            ("Content-Type", b"application/json"),
            ("Connection", b"close"),
        ],
        Some(body.len()),
    );
    stream
        .write_all(&head)
        .and_then(|()| stream.write_all(body))
        .map_err(|e| format!("cannot send: {e}"))?;
    let mut buf = crate::http1::ReadBuf::with_limit(64 * 1024);
    loop {
        let n = stream
            .read(buf.spare())
            .map_err(|e| format!("no answer: {e}"))?;
        buf.commit(n);
        match crate::http1::take_status(&mut buf, n == 0) {
            Ok(Some(answer)) if answer.status.is_success() => return Ok(()),
            Ok(Some(answer)) => return Err(format!("answered {}", answer.status)),
            Ok(None) if n == 0 => return Err("closed without an answer".to_owned()),
            Ok(None) => {}
            Err(e) => return Err(format!("a malformed answer: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscribe(body: &str) -> Result<Subscription, String> {
        parse_subscription(body.as_bytes())
    }

    #[test]
    fn a_full_subscription_and_the_defaults() {
        let s = subscribe(
            r#"{"schemaVersion":"2022-12-13","types":["platform","function"],
                "buffering":{"maxItems":1000,"maxBytes":262144,"timeoutMs":25},
                "destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:4243/in?x=1"}}"#,
        )
        .unwrap();
        assert_eq!(s.types, PLATFORM | FUNCTION);
        assert_eq!(s.buffering.timeout, Duration::from_millis(25));
        assert_eq!(s.destination.addr, SocketAddr::from(([127, 0, 0, 1], 4243)));
        assert_eq!(s.destination.host, "sandbox.localdomain:4243");
        assert_eq!(s.destination.path, "/in?x=1");
        let s = subscribe(
            r#"{"schemaVersion":"2022-07-01","types":["extension"],
                "destination":{"protocol":"HTTP","URI":"http://[::1]:9"}}"#,
        )
        .unwrap();
        assert_eq!(s.destination.path, "/");
        assert_eq!(s.destination.addr.port(), 9);
        assert_eq!(
            s.buffering,
            Buffering {
                max_items: 10_000,
                max_bytes: 262_144,
                timeout: Duration::from_millis(1_000)
            }
        );
    }

    #[test]
    fn bad_subscriptions_say_what_is_wrong() {
        let cases = [
            ("not json", "not valid JSON"),
            (
                r#"{"types":["platform"],"destination":{"protocol":"HTTP","URI":"http://sandbox:1"}}"#,
                "schemaVersion is missing",
            ),
            (
                r#"{"schemaVersion":"2022-12-13","types":[],"destination":{"protocol":"HTTP","URI":"http://sandbox:1"}}"#,
                "types should not be empty",
            ),
            (
                r#"{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain"}}"#,
                "URI port is not provided",
            ),
            (
                r#"{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://example.com:80/"}}"#,
                "not on the sandbox",
            ),
            (
                r#"{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"TCP","URI":"http://sandbox:1"}}"#,
                "TCP is not supported",
            ),
            (
                r#"{"schemaVersion":"2022-12-13","types":["logs"],"destination":{"protocol":"HTTP","URI":"http://sandbox:1"}}"#,
                "type \"logs\"",
            ),
            (
                r#"{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"timeoutMs":10},"destination":{"protocol":"HTTP","URI":"http://sandbox:1"}}"#,
                "buffering.timeoutMs 10 is outside 25..=30000",
            ),
            (
                r#"{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"maxBytes":2000000},"destination":{"protocol":"HTTP","URI":"http://sandbox:1"}}"#,
                "buffering.maxBytes",
            ),
            (
                r#"{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"maxItems":5},"destination":{"protocol":"HTTP","URI":"http://sandbox:1"}}"#,
                "buffering.maxItems",
            ),
            (
                r#"{"schemaVersion":"2021-01-01","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://sandbox:1"}}"#,
                "schemaVersion \"2021-01-01\"",
            ),
        ];
        for (body, expected) in cases {
            let why = subscribe(body).expect_err(body);
            assert!(why.contains(expected), "{body}: {why}");
        }
    }

    #[test]
    fn a_batch_reaches_a_listening_destination_and_a_closed_one_fails() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut conn, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0; 4096];
            while !String::from_utf8_lossy(&got).contains("[1,2]") {
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0);
                got.extend_from_slice(&buf[..n]);
            }
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            String::from_utf8(got).unwrap()
        });
        let destination = parse_uri(&format!("http://sandbox.localdomain:{port}/t")).unwrap();
        post(&destination, b"[1,2]").unwrap();
        let request = server.join().unwrap();
        assert!(request.starts_with("POST /t HTTP/1.1\r\n"), "{request}");
        assert!(request.contains(&format!("Host: sandbox.localdomain:{port}\r\n")));
        // Nobody listens there any more.
        assert!(post(&destination, b"[]").is_err());
    }
}
