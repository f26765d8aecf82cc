//! Answers with its own context and `_X_AMZN_TRACE_ID`, to show what a handler receives.

use faas_runtime::{Context, Error};
use serde_json::json;

fn main() {
    faas_runtime::run(|_event: serde_json::Value, ctx: Context| async move {
        let remaining_ms = ctx.remaining_time().map(|d| d.as_millis() as u64);
        Ok::<_, Error>(json!({
            "context": ctx,
            "remainingMs": remaining_ms,
            "traceEnv": std::env::var("_X_AMZN_TRACE_ID").ok(),
        }))
    })
}
