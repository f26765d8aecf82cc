//! Fails every invocation with a handler error, as a function that validates its input would.

use faas_runtime::{Context, Error};

fn main() {
    faas_runtime::run(|_event: serde_json::Value, _ctx: Context| async move {
        Err::<(), _>(Error::new(
            "OrderRejected",
            "the order was rejected on purpose",
        ))
    })
}
