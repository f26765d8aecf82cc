//! Echoes any JSON event back unchanged on `lambda_runtime::run_concurrent` (N workers when
//! `AWS_LAMBDA_MAX_CONCURRENCY` > 1): the peer of checks/peers/ours' `echo` in
//! `faas-check concurrency`.

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

async fn echo(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(event.payload)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run_concurrent(service_fn(echo)).await
}
