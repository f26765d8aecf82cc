//! Answers with its own context, `_X_AMZN_TRACE_ID` and `faas_runtime::xray_trace_id()`, to
//! show what a handler receives.

use faas_runtime::{Context, Error};
use serde_json::{Value, json};

async fn handler(_event: Value, ctx: Context) -> Result<Value, Error> {
    let remaining_ms = ctx.remaining_time().map(|d| d.as_millis() as u64);
    Ok(json!({
        "context": ctx,
        "remainingMs": remaining_ms,
        "traceEnv": std::env::var("_X_AMZN_TRACE_ID").ok(),
        "traceId": faas_runtime::xray_trace_id(),
    }))
}

fn main() {
    faas_runtime::run(handler)
}
