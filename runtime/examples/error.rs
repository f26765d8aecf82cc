//! Fails every invocation with a handler error, as a function that validates its input would.

use faas_runtime::{Context, Error};

async fn handler(_event: serde_json::Value, _ctx: Context) -> Result<(), Error> {
    Err(Error::new(
        "OrderRejected",
        "the order was rejected on purpose",
    ))
}

fn main() {
    faas_runtime::run(handler)
}
