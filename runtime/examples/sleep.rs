//! Sleeps, then answers with how long it slept: `{"ms": 200}` sleeps 200 ms; without `ms` it
//! sleeps one second past its deadline, to show the timeout.

use std::time::Duration;

use faas_runtime::Context;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Nap {
    ms: Option<u64>,
}

fn main() {
    faas_runtime::run(|nap: Nap, ctx: Context| async move {
        let duration = match nap.ms {
            Some(ms) => Duration::from_millis(ms),
            None => ctx.remaining_time().unwrap_or_default() + Duration::from_secs(1),
        };
        tokio::time::sleep(duration).await;
        Ok(json!({ "slept_ms": duration.as_millis() as u64 }))
    })
}
