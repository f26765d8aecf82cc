//! Echoes any JSON event back unchanged.

fn main() {
    faas_runtime::run(|event: serde_json::Value, _ctx| async move {
        Ok::<_, faas_runtime::Error>(event)
    })
}
