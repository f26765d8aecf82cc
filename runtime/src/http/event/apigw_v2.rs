//! API Gateway HTTP APIs (payload format 2.0), both ways; function URLs share the format.
//!
//! **Request.** Method: `requestContext.http.method`. Path: `rawPath`, which is the client's
//! path on an `execute-api` URL (`/{stage}/pets/1` for a named stage, `/pets/1` for `$default`).
//! Through a custom domain API Gateway still puts a named stage in front of `rawPath` although
//! the client never typed it, so there (host not `execute-api`, stage not `$default`) a leading
//! `/{stage}` segment is removed; an API mapping key is not in the event at all and cannot be
//! restored. Query: `rawQueryString` verbatim (only bytes a URI cannot hold are escaped), so
//! repeated keys, their order and the client's encoding reach the service unchanged. Headers:
//! `headers` (API Gateway has joined repeated ones with commas). Cookies: `cookies` joined
//! into one `Cookie: a=1; b=2` header.
//!
//! **Response.** `statusCode`, `headers` (repeated headers joined with `, `, none dropped),
//! `cookies` (every `Set-Cookie`, which cannot be joined), `body` and `isBase64Encoded`.

use http::response::Parts;

use super::apigw_v1::is_execute_api_host;
use super::{JsonOut, RawEvent};
use crate::http::percent::{push_component, push_uri};

/// `requestContext.http.method`.
pub(crate) fn method(raw: &RawEvent) -> Option<&str> {
    raw.request_context
        .as_ref()?
        .get("http")?
        .get("method")?
        .as_str()
}

/// `path?query` of the request, encoded.
pub(crate) fn target(raw: &RawEvent, host: Option<&str>) -> String {
    let raw_path = raw.raw_path.as_deref().unwrap_or("/");
    let stage = raw
        .context_str("stage")
        .filter(|s| !s.is_empty() && *s != "$default");
    let path = match stage {
        Some(stage) if !host.is_some_and(is_execute_api_host) => raw_path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(stage))
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .map(|rest| if rest.is_empty() { "/" } else { rest })
            .unwrap_or(raw_path),
        _ => raw_path,
    };
    let mut out = String::with_capacity(path.len() + 64);
    push_uri(&mut out, path, false);
    match raw.raw_query_string.as_deref() {
        Some("") => {}
        Some(query) => {
            out.push('?');
            push_uri(&mut out, query, true);
        }
        // Events without `rawQueryString` (hand-written ones): the decoded parameters.
        None => {
            for (i, (key, value)) in raw
                .query_string_parameters
                .iter()
                .flat_map(|q| &q.0)
                .enumerate()
            {
                out.push(if i == 0 { '?' } else { '&' });
                push_component(&mut out, key);
                out.push('=');
                push_component(&mut out, value);
            }
        }
    }
    out
}

/// The HTTP API response JSON (payload 2.0).
pub(crate) fn response(head: &Parts, body: &[u8]) -> Vec<u8> {
    let mut out = JsonOut::new(head.status, body.len());
    out.joined_headers("headers", &head.headers, true);
    out.cookies(&head.headers);
    out.finish_with_body(&head.headers, body)
}
