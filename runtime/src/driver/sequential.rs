//! The classic Lambda loop: one invocation at a time, `GET /next`, the adapter, post, until a
//! stop signal.
//!
//! The client's calls block this thread (one `write` and one sleeping `read` per `/next`, see
//! `crate::client`); the tokio runtime runs only `init` and each invocation. With one invocation
//! in flight, process-wide state is safe here: the request id for log lines and the panic hook
//! (`context::set_current`) and `_X_AMZN_TRACE_ID` (`TraceEnv`).

use std::sync::Arc;

use tokio::runtime::Runtime;

use super::{Process, context_of, invoke, unreachable_api};
use crate::client::Client;
use crate::context::{self, FunctionSettings};
use crate::exit::Exit;
use crate::invocation::Adapter;
use crate::shutdown;
use crate::trace_env::TraceEnv;

/// Serves invocations one at a time until a stop signal; returns why the loop ended.
pub(super) fn serve<A: Adapter>(
    rt: &Runtime,
    mut client: Client,
    mut adapter: A,
    function: &Arc<FunctionSettings>,
) -> Exit {
    let mut trace_env = TraceEnv::new();
    loop {
        let event = match client.next() {
            Ok(Some(event)) => event,
            Ok(None) => {
                tracing::info!("stop signal while idle: exiting");
                return Exit::Done;
            }
            Err(unreachable) => return unreachable_api(&unreachable),
        };
        let Some(ctx) = context_of(&event, function) else {
            continue;
        };
        let id = ctx.request_id.clone();
        context::set_current(Some(&id));
        // Left in place after the invocation (nothing runs between two); replaced or removed
        // by the next one.
        trace_env.set(ctx.xray_trace_id.as_deref());
        let posted = invoke(
            rt,
            &mut client,
            &mut adapter,
            &Process,
            &id,
            &event.body,
            ctx,
        );
        context::set_current(None);
        if let Err(unreachable) = posted {
            return unreachable_api(&unreachable);
        }
        if shutdown::requested() {
            tracing::info!("stop signal during an invocation: its result is posted; exiting");
            return Exit::Done;
        }
    }
}
