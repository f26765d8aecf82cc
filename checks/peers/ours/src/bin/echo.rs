//! Echoes any JSON event back unchanged: the echo function of `faas-check bench`
//! (runtime/examples/echo.rs, with the allocator chosen by the `jemalloc` feature).

// jemalloc as `bootstrap` ships it with the `jemalloc` feature, musl's malloc without.
#[path = "../allocator.rs"]
mod allocator;

fn main() {
    faas_runtime::run(|event: serde_json::Value, _ctx| async move { Ok(event) })
}
