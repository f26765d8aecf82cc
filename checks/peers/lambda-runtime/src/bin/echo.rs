//! Echoes any JSON event back unchanged, on AWS's `lambda_runtime`: the peer of
//! runtime/examples/echo.rs in `faas-check bench`.

// With the `jemalloc` feature, the same global allocator as ours (checks/peers/ours).
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
    lambda_runtime::run(service_fn(echo)).await
}
