//! What the Runtime API answers on the client's own HTTP/1.1 connection, in pieces of any
//! size, after interim (1xx) answers, read with a body limit small enough to be passed: never
//! a panic, interim answers skipped, no body over the limit, and a length-framed body exactly
//! its declared length. The first three bytes choose the piece size, the limit and the interim
//! answers (see `faas_runtime::fuzzing::runtime_api_response`).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    faas_runtime::fuzzing::runtime_api_response(bytes);
});
