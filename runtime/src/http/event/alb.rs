//! Application Load Balancer target groups, both ways, with multi-value headers on or off.
//!
//! **Request.** Method: `httpMethod`. Path: `path` as the client sent it. Query: the load
//! balancer passes the client's query values without decoding them, so they go into the URI as
//! they are (only bytes a URI cannot hold are escaped): `?myKey=%3FshowAll%3Dtrue` reaches the
//! service as the client wrote it. With multi-value headers on, the event has
//! `multiValueHeaders` and `multiValueQueryStringParameters` and every value is kept.
//!
//! **Response.** `statusCode`, `statusDescription` (`200 OK`), `body`, `isBase64Encoded`, and
//! the headers in the mode the event came in (the load balancer reads only that one):
//! `multiValueHeaders` with every value, or `headers` with repeated values joined with `, `.
//! `Set-Cookie` cannot be joined: without multi-value headers only the first is sent, with a
//! warning to turn the mode on.

use http::header::SET_COOKIE;
use http::response::Parts;

use super::{JsonOut, RawEvent, push_query};
use crate::http::percent::{push_path, push_uri};

/// `path?query` of the request, encoded.
pub(crate) fn target(raw: &RawEvent) -> String {
    let mut out = String::new();
    push_path(&mut out, raw.path.as_deref().unwrap_or("/"));
    push_query(
        &mut out,
        raw.multi_value_query_string_parameters.as_ref(),
        raw.query_string_parameters.as_ref(),
        |out, text| push_uri(out, text, true),
    );
    out
}

/// The target group response JSON.
pub(crate) fn response(head: &Parts, body: &[u8], multi_value: bool) -> Vec<u8> {
    let mut out = JsonOut::new(head.status, body.len());
    let reason = head.status.canonical_reason().unwrap_or("Unknown");
    out.string(
        "statusDescription",
        &format!("{} {reason}", head.status.as_u16()),
    );
    if multi_value {
        out.multi_value_headers("multiValueHeaders", &head.headers);
    } else {
        let cookies = head.headers.get_all(SET_COOKIE).iter().count();
        if cookies > 1 {
            tracing::warn!(
                "{cookies} Set-Cookie headers but the target group has multi-value headers off: \
                 only the first is sent (turn on lambda.multi_value_headers.enabled)"
            );
            let mut headers = head.headers.clone();
            if let Some(first) = head.headers.get(SET_COOKIE).cloned() {
                headers.insert(SET_COOKIE, first);
            }
            out.joined_headers("headers", &headers, false);
        } else {
            out.joined_headers("headers", &head.headers, false);
        }
    }
    out.finish_with_body(&head.headers, body)
}
