//! What the Runtime API answers on the client's own HTTP/1.1 connection, in pieces of any
//! size: never a panic, and a length-framed body is exactly its declared length.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    faas_runtime::fuzzing::runtime_api_response(bytes);
});
