//! The orders workload (checks/peers/orders/orders.rs) on our runtime: a 512 KB JSON event
//! deserialized into typed structs, a summary serialized back.

#[path = "../../../orders/orders.rs"]
mod orders;

fn main() {
    faas_runtime::run(|batch: orders::Batch, _ctx| async move {
        Ok::<_, faas_runtime::Error>(orders::summarize(batch))
    })
}
