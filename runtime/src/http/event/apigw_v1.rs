//! API Gateway REST APIs (payload format 1.0, which HTTP APIs can also be set to), both ways.
//!
//! **Request.** Method: `httpMethod`. Path: `requestContext.path`, the path the client
//! requested: `/{stage}/pets/1` through an `execute-api` URL, `/pets/1` through a custom domain
//! mapped at its root, `/{basePath}/pets/1` under a base path mapping. (The top-level `path` has
//! the stage cut off on `execute-api` URLs but not the base path on custom domains, so a router
//! cannot match both.) Events without `requestContext.path` (console tests, SAM templates) use
//! `path`, with `/{stage}` put back in front when the host is an `execute-api` one, as the
//! client's URL had it. Query: `multiValueQueryStringParameters` (every value) when present, else
//! `queryStringParameters`; API Gateway decodes them, so they are encoded again (`%20` for a space).
//! Headers: `multiValueHeaders`, every value, with `headers` for names they lack.
//!
//! **Response.** `statusCode`, `multiValueHeaders` (every value of every header, `Set-Cookie`
//! included), `body` and `isBase64Encoded`. No `headers`: API Gateway merges the two maps, so a
//! header in both would reach the client twice.

use http::response::Parts;

use super::{JsonOut, RawEvent, push_query};
use crate::http::percent::{push_component, push_path, push_uri};

/// `path?query` of the request, encoded.
pub(crate) fn target(raw: &RawEvent, host: Option<&str>) -> String {
    let mut out = String::new();
    match raw.context_str("path").filter(|p| p.starts_with('/')) {
        Some(path) => push_path(&mut out, path),
        None => {
            let path = raw.path.as_deref().unwrap_or("/");
            let stage = raw
                .context_str("stage")
                .filter(|s| !s.is_empty() && *s != "$default");
            if let (Some(stage), true) = (stage, host.is_some_and(is_execute_api_host)) {
                let prefixed = path
                    .strip_prefix('/')
                    .and_then(|p| p.strip_prefix(stage))
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
                if !prefixed {
                    out.push('/');
                    push_uri(&mut out, stage, false);
                }
            }
            push_path(&mut out, path);
        }
    }
    let multi = raw
        .multi_value_query_string_parameters
        .as_ref()
        .filter(|m| !m.0.is_empty());
    push_query(
        &mut out,
        multi,
        raw.query_string_parameters.as_ref(),
        push_component,
    );
    out
}

/// Whether `host` is API Gateway's own domain (`{api-id}.execute-api.{region}.amazonaws.com`),
/// where the stage is the first segment of the client's path.
pub(crate) fn is_execute_api_host(host: &str) -> bool {
    host.contains(".execute-api.")
}

/// The REST API response JSON.
pub(crate) fn response(head: &Parts, body: &[u8]) -> Vec<u8> {
    let mut out = JsonOut::new(head.status, body.len());
    out.multi_value_headers("multiValueHeaders", &head.headers);
    out.finish_with_body(&head.headers, body)
}
