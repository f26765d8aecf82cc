//! AWS's event-stream framing (`application/vnd.amazon.eventstream`), the body of Lambda's
//! `InvokeWithResponseStream` answer: each chunk of the function's stream is a `PayloadChunk`
//! message, and the stream ends with one `InvokeComplete` message that carries the function's
//! error, if any. AWS SDKs read exactly this; the framing is a prelude (total and header
//! lengths, CRC32), string headers, the payload, and a CRC32 of the whole message.
//!
//! The codec only: the body that feeds a live stream into it is the invoke API's.

use hyper::body::Bytes;

use crate::emulator::limits::MAX_STREAM_ERROR_DETAILS;

/// The whole event stream of an answer that was not streamed: the buffered response as one
/// `PayloadChunk`, or only `InvokeComplete` with the error.
pub(crate) fn whole(response: Result<&[u8], &[u8]>) -> Bytes {
    match response {
        Ok(body) => {
            let mut all = payload_chunk(body).to_vec();
            all.extend_from_slice(&invoke_complete(None));
            all.into()
        }
        Err(error) => complete_with(Some(error), MAX_STREAM_ERROR_DETAILS),
    }
}

/// `InvokeComplete` for an error body (the runtime's JSON), its `errorType` as `ErrorCode`.
/// The body travels as `ErrorDetails`, a JSON string, cut to `max_details` bytes of escaped
/// JSON with a marker saying how much was left out: a 6 MiB body of control bytes would
/// otherwise escape to a 37 MB message that SDKs refuse, and its caller would never learn the
/// error code.
pub(crate) fn complete_with(error: Option<&[u8]>, max_details: usize) -> Bytes {
    let Some(body) = error else {
        return invoke_complete(None);
    };
    let code = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("errorType")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| crate::protocol::error_type::UNHANDLED.to_owned());
    let text = String::from_utf8_lossy(body);
    invoke_complete(Some((&code, &bounded(&text, max_details))))
}

/// `text`, or as much of it as escapes to at most `max` bytes of JSON string followed by a
/// marker naming the bytes left out.
fn bounded(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    let mut escaped = 0;
    for (at, c) in text.char_indices() {
        escaped += match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        };
        if escaped > max {
            let left_out = text.len() - at;
            return format!("{}... [{left_out} more bytes not shown]", &text[..at]).into();
        }
    }
    text.into()
}

/// A `PayloadChunk` event carrying `chunk` as it is.
pub(crate) fn payload_chunk(chunk: &[u8]) -> Bytes {
    message(
        &[
            (":event-type", "PayloadChunk"),
            (":content-type", "application/octet-stream"),
            (":message-type", "event"),
        ],
        chunk,
    )
}

/// The closing `InvokeComplete` event: `{}` after a stream that succeeded, or the error's code
/// and details (`ErrorCode` is the function's `errorType`, `ErrorDetails` its JSON body).
pub(crate) fn invoke_complete(error: Option<(&str, &str)>) -> Bytes {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Complete<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        error_code: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error_details: Option<&'a str>,
        log_result: &'a str,
    }
    let body = serde_json::to_vec(&Complete {
        error_code: error.map(|e| e.0),
        error_details: error.map(|e| e.1),
        log_result: "",
    })
    .unwrap_or_default();
    message(
        &[
            (":event-type", "InvokeComplete"),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        &body,
    )
}

/// One message: prelude, headers (all of type string, 7), payload, message CRC.
fn message(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut encoded_headers = Vec::new();
    for (name, value) in headers {
        encoded_headers.push(name.len() as u8);
        encoded_headers.extend_from_slice(name.as_bytes());
        encoded_headers.push(7);
        encoded_headers.extend_from_slice(&(value.len() as u16).to_be_bytes());
        encoded_headers.extend_from_slice(value.as_bytes());
    }
    let total = 12 + encoded_headers.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(encoded_headers.len() as u32).to_be_bytes());
    let prelude_crc = crc32(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&encoded_headers);
    out.extend_from_slice(payload);
    let message_crc = crc32(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out.into()
}

/// CRC-32 (IEEE 802.3, as zlib's), bit by bit: messages are small and few.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_message_frames_its_headers_and_payload() {
        let m = payload_chunk(b"hi");
        let total = u32::from_be_bytes(m[0..4].try_into().unwrap()) as usize;
        let headers = u32::from_be_bytes(m[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, m.len());
        assert_eq!(
            u32::from_be_bytes(m[8..12].try_into().unwrap()),
            crc32(&m[..8])
        );
        assert_eq!(&m[12 + headers..total - 4], b"hi");
        assert_eq!(
            u32::from_be_bytes(m[total - 4..].try_into().unwrap()),
            crc32(&m[..total - 4])
        );
        assert!(
            m[12..12 + headers]
                .windows(12)
                .any(|w| w == b"PayloadChunk")
        );
    }

    #[test]
    fn invoke_complete_carries_the_error() {
        let m = invoke_complete(Some(("TokenLimit", "{\"errorType\":\"TokenLimit\"}")));
        let text = String::from_utf8_lossy(&m);
        assert!(text.contains(r#""ErrorCode":"TokenLimit""#), "{text}");
        let ok = invoke_complete(None);
        assert!(String::from_utf8_lossy(&ok).contains(r#"{"LogResult":""}"#));
    }

    #[test]
    fn error_details_are_bounded_with_a_marker() {
        assert_eq!(bounded("a\u{1}b", 100), "a\u{1}b");
        let cut = bounded("ab\u{1}\u{1}cd", 8);
        assert_eq!(cut, "ab\u{1}... [3 more bytes not shown]");
        let body = vec![1u8; 6 * 1024 * 1024];
        let m = complete_with(Some(&body), MAX_STREAM_ERROR_DETAILS);
        assert!(m.len() < MAX_STREAM_ERROR_DETAILS + 1024, "{}", m.len());
    }
}
