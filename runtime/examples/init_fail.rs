//! Fails before the first event, as a function whose configuration is missing: the error goes
//! to `/init/error` and the process exits non-zero.

use faas_runtime::{Context, Error};

fn main() {
    faas_runtime::run_with_init(|| async {
        let table = std::env::var("ORDERS_TABLE")
            .map_err(|_| Error::new("ConfigMissing", "ORDERS_TABLE is not set"))?;
        Ok(move |_event: serde_json::Value, _ctx: Context| {
            let table = table.clone();
            async move { Ok(table) }
        })
    })
}
