//! Sleeps `{"ms": N}` milliseconds, then answers `{"slept_ms": N}`: the I/O-bound function of
//! `faas-check concurrency` (runtime/examples/sleep.rs's answer, with the allocator chosen by
//! the `jemalloc` feature). Under `AWS_LAMBDA_MAX_CONCURRENCY` = N, N of them sleep at once.

// jemalloc as `bootstrap` ships it with the `jemalloc` feature, musl's malloc without.
#[path = "../allocator.rs"]
mod allocator;

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Nap {
    ms: u64,
}

fn main() {
    faas_runtime::run(|nap: Nap, _ctx| async move {
        tokio::time::sleep(Duration::from_millis(nap.ms)).await;
        Ok(json!({ "slept_ms": nap.ms }))
    })
}
