//! The orders workload (checks/peers/orders/orders.rs) on our runtime: a 512 KB JSON event
//! deserialized into typed structs, a summary serialized back.

#[path = "../../../orders/orders.rs"]
mod orders;

// jemalloc as `bootstrap` ships it with the `jemalloc` feature, musl's malloc without.
#[path = "../allocator.rs"]
mod allocator;

async fn handler(
    batch: orders::Batch,
    _ctx: faas_runtime::Context,
) -> Result<orders::Summary, faas_runtime::Error> {
    Ok(orders::summarize(batch))
}

fn main() {
    faas_runtime::run(handler)
}
