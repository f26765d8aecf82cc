//! Entry points for the fuzz targets in `fuzz/`, for what the runtime reads from outside (not a
//! supported API; compiled only with the `fuzzing` feature, which `fuzz/` turns on): each
//! panics when an invariant breaks.

use std::sync::Arc;

use hyper::HeaderMap;
use hyper::header::{HeaderName, HeaderValue};

/// `bytes` as the header lines (`name: value`) of a `/next` answer: building the context
/// never panics, and an accepted request id can go into a URL path.
pub fn context_headers(bytes: &[u8]) {
    let mut headers = HeaderMap::new();
    for line in bytes.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    if let Ok(ctx) = crate::Context::from_headers(&headers, &Arc::default()) {
        let plain = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
        assert!(ctx.request_id.bytes().all(plain));
        let _ = ctx.remaining_time();
    }
}

/// `bytes` as what the Runtime API answers on the client's connection, arriving in pieces
/// of the size the first byte picks: reading never panics, the pieces give the same
/// responses as the whole, and a length-framed body is exactly as long as its header says.
pub fn runtime_api_response(bytes: &[u8]) {
    let Some((&piece, bytes)) = bytes.split_first() else {
        return;
    };
    let (Ok(pieces), Ok(whole)) = (
        responses(bytes, usize::from(piece).max(1)),
        responses(bytes, bytes.len().max(1)),
    ) else {
        return;
    };
    let summary = |r: &crate::http1::Response| (r.status, r.body.clone(), r.keep_alive);
    assert_eq!(
        pieces.iter().map(summary).collect::<Vec<_>>(),
        whole.iter().map(summary).collect::<Vec<_>>()
    );
    for response in whole {
        let Some(length) = response.headers.get(hyper::header::CONTENT_LENGTH) else {
            continue;
        };
        let chunked = response
            .headers
            .contains_key(hyper::header::TRANSFER_ENCODING);
        let length: Option<usize> = length.to_str().ok().and_then(|l| l.trim().parse().ok());
        let code = response.status.as_u16();
        if !chunked && code >= 200 && code != 204 && code != 304 {
            assert_eq!(Some(response.body.len()), length);
        }
    }
}

/// Every response in `bytes`, read `piece` bytes at a time, then at the end of the stream.
fn responses(bytes: &[u8], piece: usize) -> Result<Vec<crate::http1::Response>, String> {
    let mut buf = crate::http1::ReadBuf::default();
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
    while !buf.filled().is_empty() {
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

pub use crate::emulator::fuzzing::{client_context, invoke_request, runtime_api_request};
