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
//! struct Order { id: u64 }
//! #[derive(Serialize)]
//! struct Receipt { id: u64, accepted: bool }
//!
//! fn main() {
//!     faas_runtime::run(|order: Order, _ctx: Context| async move {
//!         Ok::<_, Error>(Receipt { id: order.id, accepted: true })
//!     })
//! }
//! ```
//!
//! Started without `AWS_LAMBDA_RUNTIME_API`, the same binary runs in *local mode*: it serves
//! Lambda's invoke endpoint itself (see [`emulator`]), so `curl` can invoke it anywhere.

mod client;
mod config;
mod context;
pub mod emulator;
mod error;
mod event_loop;
mod handler;
mod log;
mod panic;
pub mod protocol;
mod shutdown;

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use config::FunctionSettings;
pub use context::Context;
pub use error::Error;

#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Runs `handler` for every event until the process is told to stop; never returns.
///
/// The event type `E` is deserialized from the event's JSON (use `serde_json::Value` for
/// untyped events); the response `R` is serialized back. Exits 0 after SIGTERM, non-zero when
/// the Runtime API is unreachable.
///
/// ```no_run
/// faas_runtime::run(|event: serde_json::Value, _ctx| async move {
///     Ok::<_, faas_runtime::Error>(event)
/// })
/// ```
pub fn run<E, R, Err, F, Fut>(handler: F) -> !
where
    E: DeserializeOwned,
    R: Serialize,
    Err: Into<Error>,
    F: FnMut(E, Context) -> Fut,
    Fut: Future<Output = Result<R, Err>>,
{
    run_with_init(|| async move { Ok::<_, Error>(handler) })
}

/// Like [`run`], with an async `init` that builds the handler before the first event (open
/// clients, read configuration). If `init` fails, its error is posted to the Runtime API's
/// `/init/error` and the process exits non-zero, as Lambda expects.
///
/// ```no_run
/// use faas_runtime::{Context, Error};
///
/// faas_runtime::run_with_init(|| async {
///     let greeting = std::env::var("GREETING").map_err(|_| Error::new("Config", "GREETING is unset"))?;
///     Ok::<_, Error>(move |name: String, _ctx: Context| {
///         let reply = format!("{greeting}, {name}!");
///         async move { Ok::<_, Error>(reply) }
///     })
/// })
/// ```
pub fn run_with_init<E, R, Err, F, Fut, I, IFut, IErr>(init: I) -> !
where
    E: DeserializeOwned,
    R: Serialize,
    Err: Into<Error>,
    F: FnMut(E, Context) -> Fut,
    Fut: Future<Output = Result<R, Err>>,
    I: FnOnce() -> IFut,
    IFut: Future<Output = Result<F, IErr>>,
    IErr: Into<Error>,
{
    let code = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        // `init()` is called inside the runtime, so it may use tokio right away.
        Ok(rt) => rt.block_on(event_loop::start(async move {
            init().await.map_err(Into::into)
        })),
        Err(e) => {
            eprintln!("faas-runtime: cannot start the async runtime: {e}");
            1
        }
    };
    std::process::exit(code)
}
