//! Drivers fetch events from the Runtime API, hand each to an adapter
//! (`crate::invocation`) and post its outcome.
//!
//! [`run`] starts the function the same way for both (the panic hook, the stop signals, `init`,
//! the shutdown hook's extension) and then picks one by `AWS_LAMBDA_MAX_CONCURRENCY`:
//! `sequential` is one invocation at a time on one blocking connection (classic Lambda);
//! `concurrent` runs N such workers (Managed Instances). Per-invocation state a driver makes
//! visible to the handler's code (the request id for log lines and the panic hook, the X-Ray
//! trace id) is set by the driver, never by an adapter: process-wide under the sequential
//! driver, per invocation future ([`context::Invocation`]) under the concurrent one.

mod concurrent;
mod sequential;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use tokio::runtime::Runtime;

use crate::client::{Client, Unreachable};
use crate::config::{Config, MAX_WORKERS};
use crate::context::{self, Context};
use crate::endpoint::Endpoint;
use crate::exit::Exit;
use crate::invocation::{Adapter, Outcome};
use crate::protocol::{env, error_type};
use crate::{Error, lifecycle, panic, shutdown};

/// Starts the function under the Runtime API at `api` and serves events until a stop signal
/// or an unreachable API; returns why it ended.
pub(crate) fn run<A: Adapter + Clone + Send>(
    rt: &Runtime,
    api: &Endpoint,
    config: &Config,
    init: impl Future<Output = Result<A, Error>>,
) -> Exit {
    panic::install(api.clone());
    if let Err(e) = shutdown::watch() {
        let error = Error::new(
            error_type::CONFIG,
            format!("cannot listen for SIGTERM: {e}"),
        );
        return init_failed(Some(api), &error);
    }
    let adapter = match rt.block_on(init) {
        Ok(adapter) => adapter,
        Err(error) => return init_failed(Some(api), &error),
    };
    panic::initialized();
    let mut client = Client::new(api.clone());
    // A shutdown hook needs Lambda's SIGTERM, which only comes when an extension registered.
    // Its `event/next` stays open for the process's life.
    let _extension = if lifecycle::hook_set() {
        match client.register_extension(lifecycle::INTERNAL_NAME) {
            Ok(Some(waiting)) => Some(waiting),
            Ok(None) => {
                tracing::warn!(
                    "the shutdown hook's extension was not registered: the hook runs only if SIGTERM comes"
                );
                None
            }
            Err(unreachable) => return unreachable_api(&unreachable),
        }
    } else {
        None
    };
    let workers = config.max_concurrency;
    let exit = if workers <= 1 {
        sequential::serve(rt, client, adapter, &config.function)
    } else {
        if workers > MAX_WORKERS {
            tracing::warn!(
                "{}={workers}: running {MAX_WORKERS} invocations at once, the most this runtime runs",
                env::MAX_CONCURRENCY
            );
        }
        concurrent::serve(
            rt,
            client,
            adapter,
            &config.function,
            workers.min(MAX_WORKERS),
        )
    };
    if exit == Exit::Done {
        lifecycle::run_hook(rt, Instant::now());
    }
    exit
}

/// A failed init: posted to `/init/error` when there is an API, printed either way.
pub(crate) fn init_failed(api: Option<&Endpoint>, error: &Error) -> Exit {
    tracing::error!("init failed: {error}");
    if let Some(api) = api {
        if let Err(unreachable) = Client::new(api.clone()).init_error(error) {
            tracing::error!("{unreachable}");
        }
    }
    Exit::Failed
}

/// Where an invocation's futures run: as they are (the sequential driver), or as one
/// invocation's code among many ([`context::Invocation`], the concurrent driver).
trait Scope {
    fn enter<F: Future>(&self, future: F) -> impl Future<Output = F::Output>;
}

/// No scope: the process-wide state is the invocation's.
struct Process;

impl Scope for Process {
    fn enter<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
        future
    }
}

impl Scope for context::Invocation {
    fn enter<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
        self.scope(future)
    }
}

/// One invocation: the adapter's outcome, posted for `id`. The client's calls block the
/// calling thread outside the async runtime; only the handler's futures run on it.
fn invoke<A: Adapter>(
    rt: &Runtime,
    client: &mut Client,
    adapter: &mut A,
    scope: &impl Scope,
    id: &str,
    event: &[u8],
    ctx: Context,
) -> Result<(), Unreachable> {
    match rt.block_on(scope.enter(adapter.invoke(event, ctx))) {
        Outcome::Response(body) => client.respond(id, &body),
        Outcome::Failed(error) => client.fail(id, &error),
        Outcome::Stream { body, producer } => rt.block_on(scope.enter(async {
            let ((), posted) = tokio::join!(producer, client.respond_streaming(id, body));
            posted
        })),
    }
}

/// The context of an event, or `None` (logged) when it cannot be answered.
fn context_of(
    event: &crate::client::Event,
    function: &Arc<context::FunctionSettings>,
) -> Option<Context> {
    Context::from_headers(&event.headers, function)
        .inspect_err(|problem| {
            tracing::error!("{problem}: the event cannot be answered and is skipped");
        })
        .ok()
}

fn unreachable_api(unreachable: &Unreachable) -> Exit {
    tracing::error!("{unreachable}");
    Exit::Failed
}
