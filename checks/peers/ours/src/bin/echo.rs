//! Echoes any JSON event back unchanged: the echo function of `faas-check bench`
//! (runtime/examples/echo.rs, with the allocator chosen by the `jemalloc` feature).

// With the feature, jemalloc as `bootstrap` ships it; without, musl's malloc.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: faas_runtime::Jemalloc = faas_runtime::Jemalloc;

fn main() {
    faas_runtime::run(|event: serde_json::Value, _ctx| async move { Ok(event) })
}
