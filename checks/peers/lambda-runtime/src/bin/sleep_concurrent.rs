//! Sleeps `{"ms": N}` milliseconds, then answers `{"slept_ms": N}`, on
//! `lambda_runtime::run_concurrent`: the peer of checks/peers/ours' `sleep` in
//! `faas-check concurrency`.

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Nap {
    ms: u64,
}

async fn sleep(event: LambdaEvent<Nap>) -> Result<Value, Error> {
    tokio::time::sleep(Duration::from_millis(event.payload.ms)).await;
    Ok(json!({ "slept_ms": event.payload.ms }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run_concurrent(service_fn(sleep)).await
}
