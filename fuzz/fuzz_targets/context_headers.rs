//! The headers of a `/next` answer, as the runtime turns them into a `Context`: never a
//! panic, and an accepted request id is a plain token (it goes into a URL path).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    faas_runtime::fuzzing::context_headers(bytes);
});
