//! Answers with a JSON string of the requested length: `{"bytes": 7000000}` shows what happens
//! to a response over Lambda's 6 MiB limit.

use faas_runtime::Context;
use serde::Deserialize;

#[derive(Deserialize)]
struct Size {
    bytes: usize,
}

fn main() {
    faas_runtime::run(|size: Size, _ctx: Context| async move {
        Ok("x".repeat(size.bytes.saturating_sub(2)))
    })
}
