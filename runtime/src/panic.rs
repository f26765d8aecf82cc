//! Reports a panic to the Runtime API before the process dies.
//!
//! With `panic = "abort"` nothing unwinds, so the hook is the last code that runs. It cannot
//! await, so it posts on a connection of its own with the blocking transport, the request built
//! by the client's protocol module, and a timeout on every step (connect included: a full
//! accept queue must not hold a dying process for minutes). The caller then gets an error
//! naming the panic instead of waiting for the deadline.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::Error;
use crate::client::PANIC_POST_TIMEOUT;
use crate::client::blocking::post_once;
use crate::client::proto::Call;
use crate::context;
use crate::endpoint::Endpoint;
use crate::protocol::error_type;

/// Whether `init` has succeeded: from then on a panic outside any invocation (in a task the
/// handler spawned, under the concurrent driver) is only logged, never posted as an init error.
static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// Marks the end of `init`.
pub(crate) fn initialized() {
    INITIALIZED.store(true, Ordering::SeqCst);
}

/// Replaces the panic hook with one that logs the panic and posts it to the API at `api`: to
/// the invocation the panicking code serves, or to `/init/error` during init.
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
        let current = context::current();
        let error_type = error.error_type();
        let call = match current.as_deref() {
            Some(id) => Call::Error { id, error_type },
            None if INITIALIZED.load(Ordering::SeqCst) => return,
            None => Call::InitError { error_type },
        };
        if let Err(e) = post_once(&api, &call, &error.to_json(), PANIC_POST_TIMEOUT) {
            tracing::error!("could not report the panic to {api}: {call}: {e}");
        }
    }));
}
