//! Compile-time proof of the handler forms a function author writes: each form below is passed
//! to the real `faas_runtime::run` / `run_with_init` (never called: `run` never returns, so the
//! calls sit behind a `false` the optimiser cannot see through). If a signature change makes a
//! form need an annotation again, or `?` stops converting an error, this file stops compiling.

use std::hint::black_box;

use faas_runtime::{Context, Error};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Deserialize)]
struct Order {
    id: u64,
}

#[derive(Serialize)]
struct Receipt {
    id: u64,
}

/// The first documented form: a named async fn.
async fn named(order: Order, _ctx: Context) -> Result<Receipt, Error> {
    Ok(Receipt { id: order.id })
}

/// `?` on every error the crate converts.
async fn question_marks(event: Value, _ctx: Context) -> Result<Value, Error> {
    let text = std::fs::read_to_string("/nonexistent").or_else(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Ok(String::from("{}")),
        _ => Err(e),
    })?; // std::io::Error
    let parsed: Value = serde_json::from_str(&text)?; // serde_json::Error
    let _n: u32 = "7".parse()?; // ParseIntError
    if event.is_null() {
        Err("a message")?; // &str
    }
    if event.is_boolean() {
        Err(format!("a formatted {}", "message"))?; // String
    }
    let boxed: Result<(), Box<dyn std::error::Error + Send + Sync>> = Ok(());
    boxed?; // Box<dyn Error + Send + Sync>
    #[cfg(feature = "anyhow")]
    {
        let any: anyhow::Result<()> = Ok(());
        any?; // anyhow::Error
    }
    Ok(parsed)
}

/// A function's own error type: one `From` impl.
#[derive(Debug)]
struct OutOfStock(u64);

impl From<OutOfStock> for Error {
    fn from(e: OutOfStock) -> Self {
        Error::new("OutOfStock", format!("item {} is out of stock", e.0))
    }
}

async fn own_error(order: Order, _ctx: Context) -> Result<Receipt, Error> {
    if order.id == 0 {
        Err(OutOfStock(order.id))?;
    }
    Ok(Receipt { id: order.id })
}

#[test]
fn every_handler_form_type_checks_against_run() {
    if black_box(false) {
        faas_runtime::run(named);
    }
    if black_box(false) {
        faas_runtime::run(question_marks);
    }
    if black_box(false) {
        faas_runtime::run(own_error);
    }
    if black_box(false) {
        // A closure without a single annotation on its result.
        faas_runtime::run(|event: Value, _ctx| async move { Ok(event) });
    }
    if black_box(false) {
        // Init that fails with `?` and a handler closure that captures its state.
        faas_runtime::run_with_init(|| async {
            let prefix = std::env::var("PREFIX")?;
            Ok(move |name: String, _ctx: Context| {
                let reply = format!("{prefix}{name}");
                async move { Ok(reply) }
            })
        });
    }
}

#[test]
fn question_mark_keeps_the_error_type() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ctx = || Context::for_test("t", std::time::Duration::from_secs(1));
    let e = rt.block_on(question_marks(Value::Null, ctx())).unwrap_err();
    assert_eq!((e.error_type(), e.message()), ("Error", "a message"));
    let e = rt
        .block_on(own_error(Order { id: 0 }, ctx()))
        .err()
        .unwrap();
    assert_eq!(e.error_type(), "OutOfStock");
}
