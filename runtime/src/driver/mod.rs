//! Drivers fetch events from the Runtime API, hand each to an adapter
//! (`crate::invocation`) and post its outcome.
//!
//! [`run`] starts the function the same way for both (the panic hook, the stop signals, `init`,
//! the shutdown hook's extension) and then serves events by `AWS_LAMBDA_MAX_CONCURRENCY`:
//! unset or 1, the one loop of `worker` on this thread, one invocation at a time on one
//! blocking connection (classic Lambda); N, `concurrent` runs N such workers (Managed
//! Instances). What identifies the invocation in flight to the handler's code (the request id
//! for log lines and the panic hook, the X-Ray trace id) is set here, never by an adapter:
//! process-wide with one invocation at a time, per invocation future
//! ([`crate::context::Invocation`]) with many (`worker::Marking`).

mod concurrent;
mod worker;

use std::future::Future;
use std::time::Instant;

use tokio::runtime::Runtime;

use crate::client::{Client, Unreachable};
use crate::config::{Config, MAX_WORKERS};
use crate::endpoint::Endpoint;
use crate::exit::Exit;
use crate::invocation::Adapter;
use crate::protocol::{env, error_type};
use crate::trace_env::TraceEnv;
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
        let mut marking = worker::Marking::Process(TraceEnv::new());
        let (mut client, mut adapter) = (client, adapter);
        let function = &config.function;
        let served = worker::serve(&mut client, &mut adapter, function, &mut marking);
        match rt.block_on(served) {
            Ok(()) => Exit::Done,
            Err(unreachable) => unreachable_api(&unreachable),
        }
    } else {
        if workers > MAX_WORKERS {
            tracing::warn!(
                "{}={workers}: running {MAX_WORKERS} invocations at once, the most this runtime runs",
                env::MAX_CONCURRENCY
            );
        }
        concurrent::serve(rt, api, adapter, &config.function, workers.min(MAX_WORKERS))
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

fn unreachable_api(unreachable: &Unreachable) -> Exit {
    tracing::error!("{unreachable}");
    Exit::Failed
}
