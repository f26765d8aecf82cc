//! `X-Amz-Client-Context` values: base64 decoding round-trips, whatever is forwarded is a
//! valid header value, one-line UTF-8 text (non-ASCII included) arrives decoded.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    faas_runtime::fuzzing::client_context(bytes);
});
