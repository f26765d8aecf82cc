//! The allocator of the bench functions, shared by `echo` and `json` (each includes this
//! file): with the `jemalloc` feature, jemalloc as `bootstrap` ships it; without, musl's
//! malloc. With `jemalloc-conf` too, the options in `FAAS_BENCH_MALLOC_CONF` at build time
//! are baked into the binary as jemalloc's `malloc_conf` symbol, which jemalloc reads in its
//! constructor before `main` (the measurements of docs/performance.md, "jemalloc's
//! start-up"):
//!
//! ```text
//! FAAS_BENCH_MALLOC_CONF=narenas:1 cargo build --release --target x86_64-unknown-linux-musl \
//!     -p faas-bench-ours --features jemalloc-conf --target-dir target/bench-conf
//! ```

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: faas_runtime::Jemalloc = faas_runtime::Jemalloc;

/// `FAAS_BENCH_MALLOC_CONF` at build time, NUL-terminated (empty when unset).
#[cfg(feature = "jemalloc-conf")]
const CONF: [u8; 256] = nul_terminated(match option_env!("FAAS_BENCH_MALLOC_CONF") {
    Some(conf) => conf,
    None => "",
});

/// jemalloc's `malloc_conf` (a `const char *`), as tikv-jemalloc-sys names it when its
/// symbols are prefixed (`_rjem_`, the default of its features); jemalloc's own definition
/// is weak, so this one wins at link time.
#[cfg(feature = "jemalloc-conf")]
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)]
static _rjem_malloc_conf: &u8 = &CONF[0];

#[cfg(feature = "jemalloc-conf")]
const fn nul_terminated(text: &str) -> [u8; 256] {
    let bytes = text.as_bytes();
    assert!(bytes.len() < 256, "FAAS_BENCH_MALLOC_CONF is too long");
    let mut out = [0u8; 256];
    let mut i = 0;
    while i < bytes.len() {
        out[i] = bytes[i];
        i += 1;
    }
    out
}
