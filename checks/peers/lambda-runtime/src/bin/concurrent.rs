//! AWS's `lambda_runtime::run_concurrent` (Lambda Managed Instances: N workers polling the
//! Runtime API when `AWS_LAMBDA_MAX_CONCURRENCY` > 1), with a handler that sleeps `{"ms": N}`
//! milliseconds when asked and answers with the event and its own request id, so that a caller
//! can tell its answer from another's. checks/tests/conformance.rs runs it under
//! `faas-emulator --max-concurrency 8`; the bench's concurrency rows compare it with ours.

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn sleep_then_echo(event: LambdaEvent<Value>) -> Result<Value, Error> {
    if let Some(ms) = event.payload.get("ms").and_then(Value::as_u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    Ok(json!({ "echo": event.payload, "requestId": event.context.request_id }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run_concurrent(service_fn(sleep_then_echo)).await
}
