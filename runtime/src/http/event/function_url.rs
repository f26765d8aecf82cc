//! Lambda function URLs, both ways: the request and buffered response are HTTP API payload 2.0
//! ([`super::apigw_v2`]); a streamed response (`InvokeMode: RESPONSE_STREAM`) starts with the
//! HTTP integration prelude written here.
//!
//! **Detection.** A payload 2.0 event whose `requestContext.domainName` is a function URL
//! domain (`{url-id}.lambda-url.{region}.on.aws`).
//!
//! **Streamed response.** The body Lambda receives is the prelude, a JSON object of
//! `statusCode`, `headers` (repeated ones joined with `, `) and `cookies` (every `Set-Cookie`),
//! then eight NUL bytes, then the body's bytes as the service produces them; its content type
//! is `application/vnd.awslambda.http-integration-response`. A `Content-Type` the service did not
//! set is `application/octet-stream`, as Lambda's own runtimes default it.

use http::header::{CONTENT_TYPE, HeaderValue};
use http::response::Parts;

use super::JsonOut;

/// The content type of a streamed body that starts with [`prelude`].
pub(crate) const HTTP_INTEGRATION_CONTENT_TYPE: &str =
    "application/vnd.awslambda.http-integration-response";

/// What separates the prelude from the body.
pub(crate) const PRELUDE_END: [u8; 8] = [0; 8];

/// Whether `domain` is a function URL's.
pub(crate) fn is_function_url_domain(domain: &str) -> bool {
    domain.contains(".lambda-url.")
}

/// The buffered response JSON: HTTP API payload 2.0.
pub(crate) fn response(head: &Parts, body: &[u8]) -> Vec<u8> {
    super::apigw_v2::response(head, body)
}

/// The prelude of a streamed response, followed by [`PRELUDE_END`].
pub(crate) fn prelude(head: &Parts) -> Vec<u8> {
    let mut out = JsonOut::new(head.status, 0);
    if head.headers.contains_key(CONTENT_TYPE) {
        out.joined_headers("headers", &head.headers, true);
    } else {
        let mut headers = head.headers.clone();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(crate::protocol::DEFAULT_STREAM_CONTENT_TYPE),
        );
        out.joined_headers("headers", &headers, true);
    }
    out.cookies(&head.headers);
    let mut prelude = out.finish();
    prelude.extend_from_slice(&PRELUDE_END);
    prelude
}
