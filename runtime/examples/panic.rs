//! Panics on every event: the caller must still get an error naming the panic.

fn main() {
    faas_runtime::run(|_event: serde_json::Value, _ctx| async move {
        if std::hint::black_box(true) {
            panic!("the panic example panicked on purpose");
        }
        Ok(())
    })
}
