//! A function that logs: one line to stdout and one to stderr per invocation (naming its
//! request id), one at init, and echoes its event. For the Telemetry API's `function` records.

use faas_runtime::{Context, Error};
use serde_json::Value;

fn main() {
    println!("log_lines: init");
    faas_runtime::run(|event: Value, ctx: Context| async move {
        println!("log_lines: handling {}", ctx.request_id);
        eprintln!("log_lines: stderr for {}", ctx.request_id);
        Ok::<_, Error>(event)
    })
}
