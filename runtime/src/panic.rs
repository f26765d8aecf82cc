//! Reports a panic to the Runtime API before the process dies.
//!
//! With `panic = "abort"` nothing unwinds, so the hook is the last code that runs. It cannot
//! await, so it posts with a blocking socket and a raw HTTP/1.1 request: the caller then gets an
//! error naming the panic instead of waiting for the deadline.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::Error;
use crate::context;
use crate::endpoint::Endpoint;
use crate::protocol::{self, error_type, header};

/// Replaces the panic hook with one that logs the panic and posts it to the API at `api`: to
/// the invocation in flight, or to `/init/error` before the first event.
pub(crate) fn install(api: Endpoint) {
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("Box<dyn Any>");
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        tracing::error!("panicked at {location}: {message}");
        let error = Error::new(
            error_type::PANIC,
            format!("{message} (panicked at {location})"),
        );
        let path = match context::current() {
            Some(id) => api.path(&format!("{}{id}/error", protocol::INVOCATION_PREFIX)),
            None => api.path(protocol::INIT_ERROR_PATH),
        };
        if let Err(e) = post_blocking(&api, &path, &error) {
            tracing::error!("could not report the panic to {api}: {path}: {e}");
        }
    }));
}

fn post_blocking(api: &Endpoint, path: &str, error: &Error) -> io::Result<()> {
    let body = error.to_json();
    let mut stream = TcpStream::connect(api.socket())?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{}: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        api.authority().to_str().unwrap_or_default(),
        header::FUNCTION_ERROR_TYPE,
        error.error_type(),
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)?;
    // Wait for the status line: the API has taken the error before the process aborts.
    let mut status = [0u8; 12];
    stream.read_exact(&mut status)?;
    Ok(())
}
