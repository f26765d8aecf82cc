//! Echoes any JSON event back unchanged: the smallest function, a closure without annotations.

fn main() {
    faas_runtime::run(|event: serde_json::Value, _ctx| async move { Ok(event) })
}
