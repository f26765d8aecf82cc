//! Text or base64: how a response body goes into the event source's JSON.
//!
//! The rule: a body goes as text when it is valid UTF-8, has no `Content-Encoding` (other than
//! `identity`), and its `Content-Type` is textual: `text/*`; a type whose subtype is `json`,
//! `xml`, `javascript`, `ecmascript`, `yaml`, `x-yaml`, `x-www-form-urlencoded` or `graphql`;
//! a structured suffix `+json`, `+xml` or `+yaml`; or no `Content-Type` at all. Anything else
//! (images, `application/octet-stream`, `gzip`-encoded JSON, and text in a charset whose bytes are
//! not UTF-8) goes as base64 with `isBase64Encoded: true`, so the client receives the bytes the
//! service wrote, unchanged. API Gateway REST APIs decode base64 only for the API's configured
//! binary media types; ALB, HTTP APIs and function URLs always do.

use http::HeaderMap;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};

/// Whether `body`, sent with `headers`, travels as a JSON string (else as base64).
pub(crate) fn is_text(headers: &HeaderMap, body: &[u8]) -> bool {
    let encoded = headers
        .get(CONTENT_ENCODING)
        .is_some_and(|e| !e.as_bytes().trim_ascii().eq_ignore_ascii_case(b"identity"));
    if encoded || std::str::from_utf8(body).is_err() {
        return false;
    }
    match headers.get(CONTENT_TYPE) {
        None => true,
        Some(value) => textual(value.as_bytes()),
    }
}

/// Whether a media type (`type/subtype; params`) is text.
fn textual(media_type: &[u8]) -> bool {
    let essence = media_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii()
        .to_ascii_lowercase();
    let Some(slash) = essence.iter().position(|&b| b == b'/') else {
        return false;
    };
    let (kind, subtype) = (&essence[..slash], &essence[slash + 1..]);
    if kind == b"text" {
        return true;
    }
    const SUBTYPES: [&[u8]; 8] = [
        b"json",
        b"xml",
        b"javascript",
        b"ecmascript",
        b"yaml",
        b"x-yaml",
        b"x-www-form-urlencoded",
        b"graphql",
    ];
    const SUFFIXES: [&[u8]; 3] = [b"+json", b"+xml", b"+yaml"];
    SUBTYPES.contains(&subtype) || SUFFIXES.iter().any(|s| subtype.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(content_type: Option<&str>, encoding: Option<&str>, body: &[u8]) -> bool {
        let mut headers = HeaderMap::new();
        if let Some(t) = content_type {
            headers.insert(CONTENT_TYPE, t.parse().unwrap());
        }
        if let Some(e) = encoding {
            headers.insert(CONTENT_ENCODING, e.parse().unwrap());
        }
        is_text(&headers, body)
    }

    #[test]
    fn textual_types_in_utf8_are_text() {
        for t in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/problem+json",
            "application/vnd.api+json ; charset=UTF-8",
            "text/html; charset=utf-8",
            "text/plain",
            "image/svg+xml",
            "application/javascript",
            "application/x-www-form-urlencoded",
            "application/yaml",
        ] {
            assert!(text(Some(t), None, b"{\"a\":1}"), "{t}");
        }
        assert!(text(None, None, b"plain"), "no content type, UTF-8");
        assert!(text(Some("text/plain"), Some("identity"), b"x"));
    }

    #[test]
    fn binary_types_encodings_and_non_utf8_bytes_are_base64() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(!text(Some("image/png"), None, png));
        assert!(!text(Some("image/png"), None, b"ascii only"));
        assert!(!text(Some("application/octet-stream"), None, b"abc"));
        assert!(!text(
            Some("application/json"),
            Some("gzip"),
            b"\x1f\x8b\x08\0"
        ));
        assert!(!text(Some("application/json"), Some("br"), b"ascii"));
        // Latin-1 text: the bytes are not UTF-8, so they travel unchanged as base64.
        assert!(!text(
            Some("text/plain; charset=iso-8859-1"),
            None,
            b"caf\xe9"
        ));
        assert!(!text(None, None, b"\xff\xfe"));
        assert!(!text(Some("nonsense"), None, b"abc"));
    }
}
