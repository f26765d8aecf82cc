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
//! # Many invocations at once (Lambda Managed Instances)
//!
//! When Lambda sets `AWS_LAMBDA_MAX_CONCURRENCY` to N > 1, the same binary runs N invocations
//! at once: N workers, each with a Runtime API connection of its own, as futures on one thread
//! per vCPU (one thread on one vCPU), sharing whatever `init` built. That is why every entry
//! point asks the handler to be `Clone + Send`: each worker gets a clone, moved to its thread;
//! its futures need not be `Send`. Unset or 1,
//! invocations run one at a time, at the same cost as before. Under concurrency the request id
//! of log lines and [`xray_trace_id`] are each invocation's own, and `_X_AMZN_TRACE_ID` is not
//! set (the environment is shared); a panic is posted to its own invocation.
//!
//! A handler that cannot be sent to another thread is refused at compile time, whatever the
//! environment will say at run time:
//!
//! ```compile_fail
//! let not_send = std::rc::Rc::new("greeting");
//! faas_runtime::run(move |name: String, _ctx: faas_runtime::Context| {
//!     let greeting = format!("{not_send}, {name}");
//!     async move { Ok(greeting) }
//! })
//! ```
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
//! `lib.rs` is the public API only. `start` matches the mode (`config::Mode`) once: Lambda
//! runs a `driver` (the Runtime API client loop, over `client`), local mode runs
//! `emulator::local_mode`. A driver hands each event to an adapter of `invocation` (raw JSON
//! events, streamed responses), which does no I/O. `context`, `error` and `config` are the
//! domain types; `log`, `panic`, `shutdown` and `exit` the process's edges; `cli` local mode's
//! command line; `protocol` names every path, header and limit of the Runtime API.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod base64;
mod cli;
mod client;
mod config;
mod context;
mod driver;
#[cfg(feature = "local")]
#[cfg_attr(docsrs, doc(cfg(feature = "local")))]
pub mod emulator;
mod endpoint;
mod error;
mod exit;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod handler;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod http1;
mod invocation;
mod lifecycle;
mod log;
mod panic;
pub mod protocol;
#[cfg(feature = "local")]
mod server;
mod shutdown;
mod start;
mod stream;
mod trace_env;
mod wakeups;

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use context::{Context, FunctionSettings, xray_trace_id};
pub use error::Error;
pub use lifecycle::{SHUTDOWN_BUDGET, on_shutdown};
pub use stream::ResponseStream;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use http::{run_http, run_http_streaming};

/// jemalloc, for a binary's `#[global_allocator]` (feature `jemalloc`, on by default).
///
/// It keeps long-running functions from fragmenting and is faster on allocation-heavy work
/// than musl's malloc; it costs start-up time, memory and binary size (see the README's
/// measured figures), which is why the binary, not this crate, chooses it.
#[cfg(feature = "jemalloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "jemalloc")))]
pub use tikv_jemallocator::Jemalloc;

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
    F: FnMut(E, Context) -> Fut + Clone + Send,
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
    F: FnMut(E, Context) -> Fut + Clone + Send,
    Fut: Future<Output = Result<R, Error>>,
    I: FnOnce() -> IFut,
    IFut: Future<Output = Result<F, Error>>,
{
    start::run(|| async { init().await.map(invocation::Json::new) })
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
    F: FnMut(E, Context, ResponseStream) -> Fut + Clone + Send,
    Fut: Future<Output = Result<(), Error>>,
{
    start::run(|| async move { Ok(invocation::Streaming::new(handler)) })
}
