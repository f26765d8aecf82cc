//! Entry points for the fuzz targets in `fuzz/` (hidden from the documentation: not a supported
//! API). Each runs untrusted bytes through the real code that reads what crosses a process
//! boundary, the same hyper connection and handlers the emulator serves with, and panics when
//! an invariant breaks: every request answered with a well-formed status line (never a 500)
//! or the connection closed, within two seconds.

use std::cell::RefCell;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::header::HeaderValue;
use tokio::io::AsyncWrite;
use tokio::net::UnixStream;

use super::api::{self, invoke, rapi};
use super::core::state::Call;
use super::core::{Event, Outcome, Payload, Sandbox};
use crate::server::{self, Connections, PortLimits, StopSignal};

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

const LIMITS: PortLimits = PortLimits {
    max_connections: 4,
    header_timeout: Duration::from_millis(300),
    grace: Duration::from_millis(300),
    half_close: true,
};
const BODY_TIMEOUT: Duration = Duration::from_millis(300);

/// `bytes` sent to the invoke endpoint, with a function that echoes every event at once;
/// returns what the endpoint answered.
pub fn invoke_request(bytes: &[u8]) -> Vec<u8> {
    exchange(bytes, Port::Invoke)
}

/// `bytes` sent to the Runtime API, with one invocation waiting for `/next`; returns what the
/// API answered.
pub fn runtime_api_request(bytes: &[u8]) -> Vec<u8> {
    exchange(bytes, Port::Api)
}

/// The invoke endpoint's reading of an `X-Amz-Client-Context` value: whatever it forwards is a
/// valid header value, and a base64 value of one-line UTF-8 text is forwarded decoded.
pub fn client_context(value: &[u8]) {
    if let Ok(header) = HeaderValue::from_bytes(value) {
        if let Ok(forwarded) = invoke::decode_client_context(&header) {
            assert!(HeaderValue::from_bytes(forwarded.as_bytes()).is_ok());
        }
    }
    // Whatever the bytes, their base64 decodes back to them.
    let encoded = crate::base64::encode(value);
    assert_eq!(
        crate::base64::decode(encoded.as_bytes()).as_deref(),
        Some(value)
    );
    if let (Ok(text), Ok(header)) = (std::str::from_utf8(value), HeaderValue::from_str(&encoded)) {
        if HeaderValue::from_bytes(text.as_bytes()).is_ok() {
            let forwarded = invoke::decode_client_context(&header).expect("decodable");
            assert_eq!(forwarded.as_bytes(), value);
        }
    }
}

/// `bytes` as a Telemetry API subscribe body: a subscription accepted is within Lambda's
/// bounds, on the sandbox, with a path that can go on a request line; and `bytes` as a line of
/// the function's output comes out of a batch as one `function` record holding that text.
pub fn telemetry_subscription(bytes: &[u8]) {
    use super::core::telemetry::{FUNCTION, Telemetry, bounds};
    if let Ok(s) = api::telemetry::parse_subscription(bytes) {
        assert_ne!(s.types, 0);
        assert!(bounds::MAX_ITEMS.contains(&(s.buffering.max_items as u64)));
        assert!(bounds::MAX_BYTES.contains(&(s.buffering.max_bytes as u64)));
        assert!(bounds::TIMEOUT_MS.contains(&(s.buffering.timeout.as_millis() as u64)));
        assert!(s.destination.addr.ip().is_loopback());
        assert!(s.destination.path.starts_with('/'));
        assert!(s.destination.path.bytes().all(|b| b.is_ascii_graphic()));
        assert!(HeaderValue::from_str(&s.destination.host).is_ok());
        let telemetry = Telemetry::default();
        let outbox = telemetry.subscribe("id", "fuzz", s);
        let text = String::from_utf8_lossy(bytes);
        telemetry.line(FUNCTION, &text);
        outbox.close();
        if let Some((batch, count)) = outbox.next_batch() {
            let records: Vec<serde_json::Value> =
                serde_json::from_str(&batch).expect("a batch is a JSON array");
            assert_eq!(records.len(), count);
            assert!(count > 0, "no empty batch is sent");
            if let Some(line) = records.iter().find(|r| r["type"] == "function") {
                assert_eq!(line["record"].as_str(), Some(&*text));
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Port {
    Invoke,
    Api,
}

fn exchange(bytes: &[u8], port: Port) -> Vec<u8> {
    RUNTIME.with(|cell| {
        let mut cell = cell.borrow_mut();
        let runtime = cell.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime")
        });
        runtime.block_on(serve_bytes(bytes, port))
    })
}

async fn serve_bytes(bytes: &[u8], port: Port) -> Vec<u8> {
    let sandbox = Arc::new(Sandbox::new(
        Duration::from_secs(1),
        format!("{}fuzz", super::limits::EMULATED_ARN_PREFIX),
        128,
        4,
        crate::protocol::MAX_PAYLOAD,
    ));
    sandbox.runtime_started(None);
    // The Extensions API's routes parse every register body and header, then refuse
    // (registration closed): a registered extension would rightly hold `/next` until it
    // calls `event/next`, which the two-second invariant cannot tell from a hang.
    sandbox.extensions.close_registration();
    let helper = match port {
        Port::Invoke => tokio::spawn(echo_runtime(Arc::clone(&sandbox))),
        Port::Api => tokio::spawn(one_caller(Arc::clone(&sandbox))),
    };
    let (socket, mut client) = UnixStream::pair().expect("a socket pair");
    let connections = Arc::new(Connections::new(LIMITS));
    let conn = connections.admit(1).expect("room for one connection");
    let stop = Arc::new(StopSignal::default());
    let stopped = Arc::clone(&stop);
    let handler_sandbox = Arc::clone(&sandbox);
    let served = tokio::spawn(async move {
        match port {
            Port::Invoke => {
                let handler =
                    move |r| invoke::handle(Arc::clone(&handler_sandbox), BODY_TIMEOUT, r);
                server::serve_connection(
                    socket,
                    &conn,
                    &connections,
                    api::REFUSALS,
                    handler,
                    &stopped,
                )
                .await;
            }
            Port::Api => {
                let handler = move |r| rapi::handle(Arc::clone(&handler_sandbox), BODY_TIMEOUT, r);
                server::serve_connection(
                    socket,
                    &conn,
                    &connections,
                    api::REFUSALS,
                    handler,
                    &stopped,
                )
                .await;
            }
        }
    });
    let talk = async {
        let mut sent = 0;
        while sent < bytes.len() {
            if client.writable().await.is_err() {
                break;
            }
            match client.try_write(&bytes[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
        let _ = poll_fn(|cx| Pin::new(&mut client).poll_shutdown(cx)).await;
        let mut answer = Vec::new();
        let mut buffer = [0u8; 16 * 1024];
        loop {
            if client.readable().await.is_err() {
                break;
            }
            match client.try_read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
        answer
    };
    let answer = tokio::time::timeout(Duration::from_secs(2), talk)
        .await
        .expect("the server answers or closes the connection within 2 s");
    stop.fire();
    let _ = served.await;
    helper.abort();
    sandbox.stop();
    check_answer(&answer);
    answer
}

/// A runtime that answers every event with the event.
async fn echo_runtime(sandbox: Arc<Sandbox>) {
    while let Ok(invocation) = sandbox.next().await {
        let echo = Outcome::Response(Payload::Buffered(invocation.body));
        let _ = sandbox.answer(&invocation.id, Call::Response, echo);
    }
}

/// A caller with one event waiting for `/next`.
async fn one_caller(sandbox: Arc<Sandbox>) {
    if let Ok(ticket) = sandbox.admit() {
        let event = Event {
            body: hyper::body::Bytes::from_static(b"{}"),
            trace_id: None,
            client_context: None,
            identity: None,
            held: None,
        };
        ticket.invoke(event).await;
    }
}

/// `answer` starts with a status line, not a 500.
fn check_answer(answer: &[u8]) {
    if answer.is_empty() {
        return;
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 ") || answer.starts_with(b"HTTP/1.0 "),
        "not a response: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(200)])
    );
    // The first response's status (later ones may sit behind an echoed body that looks alike).
    let text = String::from_utf8_lossy(answer);
    let line = text.split("\r\n").next().unwrap_or_default();
    let code: u16 = line.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    assert!(
        (100..600).contains(&code) && code != 500,
        "bad status line {line:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds of `fuzz/corpus`, run on every `cargo test`: the harness itself is tested.
    #[test]
    fn seeds_are_answered() {
        let invoke = invoke_request(
            b"POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
        );
        assert!(
            invoke.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&invoke)
        );
        assert!(invoke.ends_with(b"{\"a\":1}"));
        let truncated = invoke_request(
            b"POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 70\r\n\r\n{\"a\":1}",
        );
        assert!(
            truncated.starts_with(b"HTTP/1.1 400"),
            "{:?}",
            String::from_utf8_lossy(&truncated)
        );
        let next = runtime_api_request(
            b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        assert!(
            next.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&next)
        );
        assert!(runtime_api_request(b"\xff\xfe garbage").starts_with(b"HTTP/1.1 400"));
        // The Extensions API's routes: a register body is parsed, then refused (registration
        // is closed in the harness); an unknown identifier is 403 at once.
        let extension = runtime_api_request(include_bytes!(
            "../../../fuzz/corpus/runtime_api_request/extension_register_next.seed"
        ));
        let text = String::from_utf8_lossy(&extension);
        assert!(
            text.starts_with("HTTP/1.1 403") && text.contains("Extension.InvalidState"),
            "{text}"
        );
        assert!(
            text.contains("Extension.UnknownExtensionIdentifier"),
            "{text}"
        );
        let bad = runtime_api_request(
            b"POST /2020-01-01/extension/register HTTP/1.1\r\nHost: x\r\nLambda-Extension-Name: a\r\nContent-Length: 4\r\n\r\nnope",
        );
        assert!(
            bad.starts_with(b"HTTP/1.1 400"),
            "{:?}",
            String::from_utf8_lossy(&bad)
        );
        // Found by the fuzzer (a harness bug): an HTTP/1.0 request gets an HTTP/1.0 answer.
        let old = invoke_request(b"POST /x HTTP/1.0\r\nHost: x\r\n\r\n");
        assert!(
            old.starts_with(b"HTTP/1.0 404"),
            "{:?}",
            String::from_utf8_lossy(&old)
        );
        client_context("{\"n\":\"café\"}".as_bytes());
        client_context(b"\x00\xff");
        assert_eq!(crate::base64::encode(b"{\"a\":1}"), "eyJhIjoxfQ==");
    }
}
