//! A function with a shutdown hook: answers `{"n": N}` with `{"n": N}`, and at shutdown its hook
//! appends a line to the file `HOOK_LOG` names. `HOOK` picks the hook: `flush` (the default:
//! 50 ms of async work, then `hook ran, budget_ms=…`), `overrun` (blocks for 5 s, past any
//! budget), `fail` (returns an error, which the runtime logs) or `none` (no hook at all, so no
//! extension is registered and Lambda kills the process without a signal).

use std::io::Write;
use std::time::Duration;

use faas_runtime::{Context, Error};
use serde_json::Value;

fn note(line: &str) {
    if let Some(path) = std::env::var_os("HOOK_LOG") {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "{line}");
        }
    }
}

fn main() {
    faas_runtime::run_with_init(|| async {
        match std::env::var("HOOK").as_deref().unwrap_or("flush") {
            "none" => {}
            "overrun" => faas_runtime::on_shutdown(|_budget: Duration| async move {
                note("hook started");
                // Blocks the thread: only the service's SIGKILL ends it.
                std::thread::sleep(Duration::from_secs(5));
                note("hook finished");
                Ok(())
            }),
            "fail" => faas_runtime::on_shutdown(|_budget: Duration| async move {
                note("hook failing");
                Err(Error::new("Hook.Failed", "the pool would not close"))
            }),
            _ => faas_runtime::on_shutdown(|budget: Duration| async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                note(&format!("hook ran, budget_ms={}", budget.as_millis()));
                Ok(())
            }),
        }
        Ok(|event: Value, _ctx: Context| async move { Ok::<_, Error>(event) })
    })
}
