//! Entry points for the fuzz targets in `fuzz/`, for what the runtime reads from outside (not a
//! supported API; compiled only with the `fuzzing` feature, which `fuzz/` turns on): each
//! panics when an invariant breaks.

use std::sync::Arc;

use crate::http1::Headers;

/// `bytes` as the header lines (`name: value`) of a `/next` answer: building the context
/// never panics, and an accepted request id can go into a URL path.
pub fn context_headers(bytes: &[u8]) {
    let mut pairs = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let Ok(name) = std::str::from_utf8(&line[..colon]) else {
            continue;
        };
        pairs.push((name, line[colon + 1..].trim_ascii()));
    }
    let headers = Headers::from_pairs(&pairs);
    if let Ok(ctx) = crate::Context::from_headers(&headers, &Arc::default()) {
        let plain = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
        assert!(ctx.request_id.bytes().all(plain));
        let _ = ctx.remaining_time();
    }
}

/// `bytes` as what the Runtime API answers on the client's connection, arriving in pieces
/// of the size the first byte picks, read into a buffer whose body limit the second byte picks
/// (0 to 255 bytes, so that bodies over the cap are reached with small inputs), after the
/// interim (1xx) answers the third byte picks: reading never panics, the pieces give the same
/// responses (or the same error) as the whole, interim answers never come out, no body is over
/// the limit, a declared length over the limit is refused, and a length-framed body is exactly
/// as long as its header says.
pub fn runtime_api_response(bytes: &[u8]) {
    use crate::http1::ParseError;
    let [piece, limit, interim, bytes @ ..] = bytes else {
        return;
    };
    let mut wire = Vec::with_capacity(bytes.len() + 64);
    for (bit, answer) in [
        &b"HTTP/1.1 100 Continue\r\n\r\n"[..],
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n",
        b"HTTP/1.0 102 Processing\r\n\r\n",
    ]
    .iter()
    .enumerate()
    {
        if interim & (1 << bit) != 0 {
            wire.extend_from_slice(answer);
        }
    }
    wire.extend_from_slice(bytes);
    let limit = usize::from(*limit);
    let pieces = responses(&wire, usize::from(*piece).max(1), limit);
    let whole = responses(&wire, wire.len().max(1), limit);
    let (pieces, whole) = match (pieces, whole) {
        (Ok(pieces), Ok(whole)) => (pieces, whole),
        (Err(a), Err(b)) => {
            // A body over the limit is refused however it arrives.
            let over = |e: &ParseError| matches!(e, ParseError::BodyTooLarge { .. });
            assert_eq!(over(&a), over(&b), "{a} / {b}");
            return;
        }
        // One sees an error the other does not: only a difference in when the end came.
        _ => return,
    };
    let summary = |r: &crate::http1::Response| (r.status, r.body.clone(), r.keep_alive);
    assert_eq!(
        pieces.iter().map(summary).collect::<Vec<_>>(),
        whole.iter().map(summary).collect::<Vec<_>>()
    );
    for response in whole {
        let code = response.status.as_u16();
        assert!(code >= 200, "an interim {code} came out");
        assert!(response.body.len() <= limit, "a body over the limit");
        let Some(length) = response.headers.get("content-length") else {
            continue;
        };
        let chunked = response.headers.get("transfer-encoding").is_some();
        let length = std::str::from_utf8(length).ok();
        let length: Option<usize> = length.and_then(|l| l.trim().parse().ok());
        if !chunked && code != 204 && code != 304 {
            assert_eq!(Some(response.body.len()), length);
        }
    }
}

/// Every response in `bytes`, read `piece` bytes at a time into a buffer whose bodies may be
/// `limit` bytes long, then at the end of the stream.
fn responses(
    bytes: &[u8],
    piece: usize,
    limit: usize,
) -> Result<Vec<crate::http1::Response>, crate::http1::ParseError> {
    let mut buf = crate::http1::ReadBuf::with_limit(limit);
    let mut found = Vec::new();
    for mut part in bytes.chunks(piece) {
        while !part.is_empty() {
            let spare = buf.spare();
            let n = spare.len().min(part.len());
            spare[..n].copy_from_slice(&part[..n]);
            buf.commit(n);
            part = &part[n..];
            while let Some(response) = crate::http1::take_response(&mut buf, false)? {
                found.push(response);
            }
        }
    }
    // At the end of the stream a response is whole, or an error.
    while !buf.is_empty() {
        match crate::http1::take_response(&mut buf, true)? {
            Some(response) => found.push(response),
            None => break,
        }
    }
    Ok(found)
}

/// `bytes` as `AWS_LAMBDA_RUNTIME_API`: parsing never panics, and an accepted address gives
/// a valid `Host` header and paths under its base.
pub fn runtime_api_address(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(endpoint) = crate::endpoint::Endpoint::parse(text) {
        let path = endpoint.path(crate::protocol::NEXT_PATH);
        assert!(path.starts_with('/') && path.ends_with(crate::protocol::NEXT_PATH));
        assert!(!endpoint.socket().0.is_empty());
        assert!(endpoint.socket().1 != 0);
        let again = crate::endpoint::Endpoint::parse(&endpoint.to_string())
            .unwrap_or_else(|e| panic!("{endpoint} does not parse again: {e}"));
        assert_eq!(again.socket(), endpoint.socket());
    }
}

pub use crate::emulator::fuzzing::{
    client_context, invoke_request, runtime_api_request, telemetry_subscription,
};
#[cfg(feature = "http")]
pub use crate::http::fuzzing::http_event;
