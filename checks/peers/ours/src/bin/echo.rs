//! Echoes any JSON event back unchanged: the echo function of `faas-check bench`.

fn main() {
    faas_runtime::run(|event: serde_json::Value, _ctx| async move {
        Ok::<_, faas_runtime::Error>(event)
    })
}
