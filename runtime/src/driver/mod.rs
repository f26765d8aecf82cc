//! Drivers fetch events from the Runtime API, hand each to an adapter
//! (`crate::invocation`) and post its outcome.
//!
//! They differ only in how they wait for `/next` and post: `sequential` is one invocation at a
//! time on one blocking connection (classic Lambda); a concurrent driver for
//! `AWS_LAMBDA_MAX_CONCURRENCY` would run N workers over the same adapters. Per-invocation state
//! that is process-wide (the request id for log lines and the panic hook, `_X_AMZN_TRACE_ID`)
//! is set by a driver, never by an adapter, so only the sequential driver may use it.

pub(crate) mod sequential;

use crate::Error;
use crate::client::Client;
use crate::endpoint::Endpoint;
use crate::exit::Exit;

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
