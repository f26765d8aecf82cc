//! The orders workload (checks/peers/orders/orders.rs) on AWS's `lambda_runtime`: the peer of
//! checks/peers/ours/src/bin/json.rs in `faas-check bench`.

#[path = "../../../orders/orders.rs"]
mod orders;

// With the `jemalloc` feature, the same global allocator as ours (checks/peers/ours).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use lambda_runtime::{Error, LambdaEvent, service_fn};

async fn handler(event: LambdaEvent<orders::Batch>) -> Result<orders::Summary, Error> {
    Ok(orders::summarize(event.payload))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
