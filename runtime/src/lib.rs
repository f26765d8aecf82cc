//! A tiny, fast runtime for AWS Lambda functions written in Rust.
//!
//! A function is one async handler; [`run`] turns it into a process that speaks the Lambda
//! Runtime API: fetch the next event, run the handler, post the response or the error, repeat.
//!
//! ```no_run
//! use faas_runtime::{Context, Error};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Order { id: u64, items: Vec<String> }
//!
//! #[derive(Serialize)]
//! struct Receipt { id: u64, count: usize }
//!
//! async fn handler(order: Order, _ctx: Context) -> Result<Receipt, Error> {
//!     if order.items.is_empty() {
//!         return Err(Error::new("EmptyOrder", format!("order {} has no items", order.id)));
//!     }
//!     Ok(Receipt { id: order.id, count: order.items.len() })
//! }
//!
//! # fn _main() {
//! faas_runtime::run(handler)
//! # }
//! ```
//!
//! A closure works as well, without annotations: `run(|event: serde_json::Value, _ctx| async
//! move { Ok(event) })`. `?` converts I/O, JSON, parse, boxed and `anyhow` errors into
//! [`Error`] with an informative `errorType`.
//!
//! Started without `AWS_LAMBDA_RUNTIME_API`, the same binary runs in *local mode*: it serves
//! Lambda's invoke endpoint itself (see [`emulator`]), so `curl` can invoke it anywhere.
//!
//! # Allocator
//!
//! The crate leaves `#[global_allocator]` to the binary. With the default `jemalloc` feature,
//! a `bootstrap` opts in with two lines (the images and the Nix build do):
//!
//! ```
//! #[global_allocator]
//! static ALLOC: faas_runtime::Jemalloc = faas_runtime::Jemalloc;
//! # fn main() {}
//! ```
//!
//! # Layout
//!
//! `lib.rs` reads the configuration and chooses the mode: `event_loop` (the Runtime API
//! client, over `client` and `endpoint`) or `emulator::local_mode`. `context`, `error` and
//! `config` are the domain types; `log`, `panic` and `shutdown` the process's edges;
//! `protocol` names every path, header and limit of the Runtime API.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod base64;
mod client;
mod config;
mod context;
pub mod emulator;
mod endpoint;
mod error;
mod event_loop;
mod handler;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod http1;
mod log;
mod panic;
pub mod protocol;
mod shutdown;
mod stream;
mod trace_env;

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use context::{Context, FunctionSettings};
pub use error::Error;
pub use stream::ResponseStream;

/// jemalloc, for a binary's `#[global_allocator]` (feature `jemalloc`, on by default).
///
/// It keeps long-running functions from fragmenting and is faster on allocation-heavy work
/// than musl's malloc; it costs start-up time, memory and binary size (see the README's
/// measured figures), which is why the binary, not this crate, chooses it.
#[cfg(feature = "jemalloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "jemalloc")))]
pub use tikv_jemallocator::Jemalloc;

/// Entry points for the fuzz targets in `fuzz/` for what the runtime reads from outside (not a
/// supported API): each panics when an invariant breaks.
#[doc(hidden)]
pub mod fuzzing {
    use std::sync::Arc;

    use hyper::HeaderMap;
    use hyper::header::{HeaderName, HeaderValue};

    /// `bytes` as the header lines (`name: value`) of a `/next` answer: building the context
    /// never panics, and an accepted request id can go into a URL path.
    pub fn context_headers(bytes: &[u8]) {
        let mut headers = HeaderMap::new();
        for line in bytes.split(|&b| b == b'\n') {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(&line[..colon]),
                HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
            ) else {
                continue;
            };
            headers.append(name, value);
        }
        if let Ok(ctx) = crate::Context::from_headers(&headers, &Arc::default()) {
            let plain = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
            assert!(ctx.request_id.bytes().all(plain));
            let _ = ctx.remaining_time();
        }
    }

    /// `bytes` as what the Runtime API answers on the client's connection, arriving in pieces
    /// of the size the first byte picks: reading never panics, the pieces give the same
    /// responses as the whole, and a length-framed body is exactly as long as its header says.
    pub fn runtime_api_response(bytes: &[u8]) {
        let Some((&piece, bytes)) = bytes.split_first() else {
            return;
        };
        let (Ok(pieces), Ok(whole)) = (
            responses(bytes, usize::from(piece).max(1)),
            responses(bytes, bytes.len().max(1)),
        ) else {
            return;
        };
        let summary = |r: &crate::http1::Response| (r.status, r.body.clone(), r.keep_alive);
        assert_eq!(
            pieces.iter().map(summary).collect::<Vec<_>>(),
            whole.iter().map(summary).collect::<Vec<_>>()
        );
        for response in whole {
            let Some(length) = response.headers.get(hyper::header::CONTENT_LENGTH) else {
                continue;
            };
            let chunked = response
                .headers
                .contains_key(hyper::header::TRANSFER_ENCODING);
            let length: Option<usize> = length.to_str().ok().and_then(|l| l.trim().parse().ok());
            let code = response.status.as_u16();
            if !chunked && code >= 200 && code != 204 && code != 304 {
                assert_eq!(Some(response.body.len()), length);
            }
        }
    }

    /// Every response in `bytes`, read `piece` bytes at a time, then at the end of the stream.
    fn responses(bytes: &[u8], piece: usize) -> Result<Vec<crate::http1::Response>, String> {
        let mut buf = crate::http1::ReadBuf::default();
        let mut found = Vec::new();
        for mut part in bytes.chunks(piece) {
            while !part.is_empty() {
                let spare = buf.spare();
                let n = spare.len().min(part.len());
                spare[..n].copy_from_slice(&part[..n]);
                buf.commit(n);
                part = &part[n..];
                while let Some(response) = crate::http1::take_response(&mut buf, false)? {
                    found.push(response);
                }
            }
        }
        // At the end of the stream a response is whole, or an error.
        while !buf.filled().is_empty() {
            match crate::http1::take_response(&mut buf, true)? {
                Some(response) => found.push(response),
                None => break,
            }
        }
        Ok(found)
    }

    /// `bytes` as `AWS_LAMBDA_RUNTIME_API`: parsing never panics, and an accepted address gives
    /// a valid `Host` header and paths under its base.
    pub fn runtime_api_address(bytes: &[u8]) {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        if let Ok(endpoint) = crate::endpoint::Endpoint::parse(text) {
            let path = endpoint.path(crate::protocol::NEXT_PATH);
            assert!(path.starts_with('/') && path.ends_with(crate::protocol::NEXT_PATH));
            assert!(!endpoint.socket().0.is_empty());
            assert!(endpoint.socket().1 != 0);
            let again = crate::endpoint::Endpoint::parse(&endpoint.to_string())
                .unwrap_or_else(|e| panic!("{endpoint} does not parse again: {e}"));
            assert_eq!(again.socket(), endpoint.socket());
        }
    }
}

/// Runs `handler` for every event until the process is told to stop; never returns.
///
/// The event type `E` is deserialized from the event's JSON (use `serde_json::Value` for
/// untyped events); the response `R` is serialized back. Exits 0 after SIGTERM, non-zero when
/// the Runtime API is unreachable.
///
/// ```no_run
/// use faas_runtime::{Context, Error};
///
/// async fn echo(event: serde_json::Value, _ctx: Context) -> Result<serde_json::Value, Error> {
///     Ok(event)
/// }
///
/// # fn _main() {
/// faas_runtime::run(echo)
/// # }
/// ```
pub fn run<E, R, F, Fut>(handler: F) -> !
where
    E: DeserializeOwned,
    R: Serialize,
    F: FnMut(E, Context) -> Fut,
    Fut: Future<Output = Result<R, Error>>,
{
    run_with_init(|| async move { Ok(handler) })
}

/// Like [`run`], with an async `init` that builds the handler before the first event (open
/// clients, read configuration). If `init` fails, its error is posted to the Runtime API's
/// `/init/error` and the process exits non-zero, as Lambda expects.
///
/// ```no_run
/// use faas_runtime::{Context, Error};
///
/// # fn _main() {
/// faas_runtime::run_with_init(|| async {
///     let greeting = std::env::var("GREETING")?;
///     Ok(move |name: String, _ctx: Context| {
///         let reply = format!("{greeting}, {name}!");
///         async move { Ok(reply) }
///     })
/// })
/// # }
/// ```
pub fn run_with_init<E, R, F, Fut, I, IFut>(init: I) -> !
where
    E: DeserializeOwned,
    R: Serialize,
    F: FnMut(E, Context) -> Fut,
    Fut: Future<Output = Result<R, Error>>,
    I: FnOnce() -> IFut,
    IFut: Future<Output = Result<F, Error>>,
{
    start(|| async { init().await.map(event_loop::Buffered::new) })
}

/// Like [`run`] for a handler that streams its response (Lambda's response streaming, for
/// function URLs with `RESPONSE_STREAM` and `InvokeWithResponseStream`): it writes chunks to a
/// [`ResponseStream`], each posted to the caller as it is written. An `Err` before the first
/// chunk or after it ends the stream with that error (in the stream's trailers).
///
/// ```no_run
/// use faas_runtime::{Context, Error, ResponseStream};
///
/// async fn tokens(prompt: String, _ctx: Context, mut out: ResponseStream) -> Result<(), Error> {
///     for word in prompt.split_whitespace() {
///         out.send(format!("{word} ")).await?;
///         tokio::time::sleep(std::time::Duration::from_millis(50)).await;
///     }
///     Ok(())
/// }
///
/// # fn _main() {
/// faas_runtime::run_streaming(tokens)
/// # }
/// ```
pub fn run_streaming<E, F, Fut>(handler: F) -> !
where
    E: DeserializeOwned,
    F: FnMut(E, Context, ResponseStream) -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    start(|| async move { Ok(event_loop::Streamed::new(handler)) })
}

/// Reads the configuration, chooses the mode (the Runtime API client, or local mode) and runs
/// it on a current-thread tokio runtime; exits with its code.
fn start<A, I, IFut>(init: I) -> !
where
    A: event_loop::Answer,
    I: FnOnce() -> IFut,
    IFut: Future<Output = Result<A, Error>>,
{
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // The function process watches two or three descriptors; tokio's default 1024-event
        // buffer (12 KiB) is 8% of its start-up instructions (docs/performance.md).
        .max_io_events_per_tick(16)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("faas-runtime: cannot start the async runtime: {e}");
            std::process::exit(1)
        }
    };
    // Inside the runtime's context, so `init()` and the handlers may use tokio right away.
    let _context = rt.enter();
    let code = match config::Config::from_env() {
        Err(error) => event_loop::config_failed(error),
        Ok(config) => {
            log::init(config.log_format, config.log_level);
            match &config.runtime_api {
                Some(api) => event_loop::serve(&rt, api, &config.function, init()),
                None => rt.block_on(emulator::local_mode(&config)),
            }
        }
    };
    std::process::exit(code)
}
