//! Wire formats the emulator writes, with no I/O and no state: the JSON error body of AWS's
//! APIs and the event-stream framing of `InvokeWithResponseStream`. The bottom layer: it
//! imports nothing else of the emulator.

pub(crate) mod event_stream;

/// The JSON of an error a caller (or the runtime) sees, with Lambda's three fields:
/// `{"errorType": ..., "errorMessage": ..., "stackTrace": []}`.
pub(crate) fn error_body(error_type: &str, message: &str) -> Vec<u8> {
    crate::Error::new(error_type.to_owned(), message).to_json()
}
