//! Lambda's lifecycle beyond the Runtime API: the Extensions API's paths and headers (shared by
//! the emulator, which serves them, and the client, which registers the runtime's internal
//! extension), and the function author's shutdown hook ([`on_shutdown`]).
//!
//! On Lambda a runtime gets SIGTERM at shutdown only when an extension is registered; without
//! one the environment is simply killed. So setting a hook makes the runtime register an
//! internal extension during init (as `lambda_runtime` does), and Lambda then gives it 500 ms
//! after SIGTERM; the hook runs within what is left of them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `POST` here to register an extension.
pub(crate) const REGISTER_PATH: &str = "/2020-01-01/extension/register";
/// `GET` here for an extension's next event.
pub(crate) const EVENT_NEXT_PATH: &str = "/2020-01-01/extension/event/next";
/// `POST` here when an extension failed to initialize.
#[cfg(feature = "local")]
pub(crate) const INIT_ERROR_PATH: &str = "/2020-01-01/extension/init/error";
/// `POST` here when an extension fails and exits.
#[cfg(feature = "local")]
pub(crate) const EXIT_ERROR_PATH: &str = "/2020-01-01/extension/exit/error";
/// The name an extension registers under.
pub(crate) const NAME_HEADER: &str = "lambda-extension-name";
/// The identifier the register call answers and every later call sends.
pub(crate) const IDENTIFIER_HEADER: &str = "lambda-extension-identifier";
/// The error type of `init/error` and `exit/error`.
#[cfg(feature = "local")]
pub(crate) const ERROR_TYPE_HEADER: &str = "lambda-extension-function-error-type";
/// `accountId` here adds the account to the register answer.
#[cfg(feature = "local")]
pub(crate) const ACCEPT_FEATURE_HEADER: &str = "lambda-extension-accept-feature";
/// The name of the internal extension the runtime registers when a hook is set.
pub(crate) const INTERNAL_NAME: &str = "faas-runtime-shutdown-hook";

/// How long Lambda gives a runtime with an internal extension between SIGTERM and SIGKILL;
/// a hook gets what is left of it.
///
/// ```
/// assert_eq!(faas_runtime::SHUTDOWN_BUDGET.as_millis(), 500);
/// ```
pub const SHUTDOWN_BUDGET: Duration = Duration::from_millis(500);
/// What the runtime keeps for itself (exiting) out of [`SHUTDOWN_BUDGET`].
const EXIT_MARGIN: Duration = Duration::from_millis(50);

type Hook =
    Box<dyn FnOnce(Duration) -> Pin<Box<dyn Future<Output = Result<(), crate::Error>>>> + Send>;

static HOOK: Mutex<Option<Hook>> = Mutex::new(None);

/// Runs `hook` once when Lambda shuts the function down (SIGTERM), with the time left before
/// Lambda's SIGKILL; its error is logged, and it is cut off when that time is up. Call it
/// during init (in `run_with_init`'s init, or before `run`): the runtime then registers an
/// internal extension so that Lambda sends SIGTERM at all. A later call replaces the hook.
///
/// ```no_run
/// use std::time::Duration;
///
/// faas_runtime::on_shutdown(|budget: Duration| async move {
///     eprintln!("flushing metrics within {budget:?}");
///     Ok(())
/// });
/// ```
pub fn on_shutdown<F, Fut>(hook: F)
where
    F: FnOnce(Duration) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), crate::Error>> + 'static,
{
    let boxed: Hook = Box::new(move |budget| Box::pin(hook(budget)));
    *HOOK.lock().unwrap_or_else(|p| p.into_inner()) = Some(boxed);
}

/// Whether a hook is set (the runtime then registers its internal extension).
pub(crate) fn hook_set() -> bool {
    HOOK.lock().unwrap_or_else(|p| p.into_inner()).is_some()
}

/// Runs the hook, if any, on `rt`, bounded by what is left of the budget since `signalled`.
pub(crate) fn run_hook(rt: &tokio::runtime::Runtime, signalled: Instant) {
    let Some(hook) = HOOK.lock().unwrap_or_else(|p| p.into_inner()).take() else {
        return;
    };
    let budget = SHUTDOWN_BUDGET
        .saturating_sub(EXIT_MARGIN)
        .saturating_sub(signalled.elapsed());
    tracing::info!(
        "shutdown: running the hook ({} ms left)",
        budget.as_millis()
    );
    match rt.block_on(tokio::time::timeout(budget, hook(budget))) {
        Ok(Ok(())) => tracing::info!("shutdown: the hook finished"),
        Ok(Err(e)) => tracing::error!("shutdown: the hook failed: {e}"),
        Err(_) => tracing::warn!("shutdown: the hook overran its budget and was cut off"),
    }
}
