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
use crate::http::percent::{push_component, push_path, push_uri};

/// `requestContext.http.method`.
pub(crate) fn method(raw: &RawEvent) -> Option<&str> {
    raw.request_context.as_ref()?.http_method.as_deref()
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
    push_path(&mut out, path);
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

/// The emulator's side (request to event, response JSON to HTTP response), for an HTTP front
/// that wraps plain HTTP requests in payload 2.0 events as API Gateway and function URLs do:
/// `crate::http::front` (local HTTP mode, the emulator's `--http` port), the round-trip tests
/// and the fuzz target.
#[cfg(any(test, feature = "fuzzing", feature = "local"))]
pub(crate) mod emulated {
    use http::header::{COOKIE, SET_COOKIE, USER_AGENT};
    use http::{HeaderMap, HeaderValue, Response, StatusCode};
    use serde_json::{Map, Value, json};

    use crate::http::content;
    use crate::http::percent;

    /// The payload 2.0 event API Gateway (or a function URL, by its `domain`) would send for
    /// this request: `rawPath` and `rawQueryString` as the client sent them, `cookies` out of
    /// the `Cookie` header, repeated headers joined with `,`, `x-forwarded-proto` added, a body
    /// that is not text as base64.
    pub(crate) fn event(
        head: &http::request::Parts,
        body: &[u8],
        domain: &str,
        request_id: &str,
    ) -> Vec<u8> {
        let mut headers = Map::new();
        for name in head.headers.keys().filter(|n| *n != COOKIE) {
            let values: Vec<String> = head
                .headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            headers.insert(name.to_string(), Value::String(values.join(",")));
        }
        // As API Gateway adds it: the scheme the client used (plain HTTP for a local front).
        headers
            .entry("x-forwarded-proto")
            .or_insert_with(|| Value::String(head.uri.scheme_str().unwrap_or("http").to_owned()));
        let mut cookies = Vec::new();
        for value in head.headers.get_all(COOKIE) {
            let value = String::from_utf8_lossy(value.as_bytes());
            let each = value.split(';').map(str::trim).filter(|c| !c.is_empty());
            cookies.extend(each.map(str::to_owned));
        }
        let query = head.uri.query().unwrap_or("");
        let mut parameters = Map::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (Some(key), Some(value)) = (percent::decode(key), percent::decode(value)) else {
                continue;
            };
            match parameters.get_mut(&key) {
                Some(Value::String(joined)) => {
                    joined.push(',');
                    joined.push_str(&value);
                }
                _ => {
                    parameters.insert(key, Value::String(value));
                }
            }
        }
        let text = content::is_text(&head.headers, body);
        let body = match std::str::from_utf8(body) {
            Ok(text_body) if text => text_body.to_owned(),
            _ => crate::base64::encode(body),
        };
        let agent = head
            .headers
            .get(USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let mut event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": head.uri.path(),
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": "anonymous",
                "apiId": domain.split('.').next().unwrap_or(domain),
                "domainName": domain,
                "domainPrefix": domain.split('.').next().unwrap_or(domain),
                "http": {
                    "method": head.method.as_str(),
                    "path": head.uri.path(),
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": agent,
                },
                "requestId": request_id,
                "routeKey": "$default",
                "stage": "$default",
            },
            "isBase64Encoded": !text,
        });
        if !cookies.is_empty() {
            event["cookies"] = json!(cookies);
        }
        if !parameters.is_empty() {
            event["queryStringParameters"] = Value::Object(parameters);
        }
        if !body.is_empty() {
            event["body"] = Value::String(body);
        }
        event.to_string().into_bytes()
    }

    /// The HTTP response a payload 2.0 response JSON stands for. A JSON that is no object with
    /// a `statusCode` is itself the body (`200`, `application/json`), as function URLs infer.
    pub(crate) fn response(answer: &[u8]) -> Result<Response<Vec<u8>>, String> {
        let json: Value = serde_json::from_slice(answer)
            .map_err(|e| format!("the function's answer is not JSON: {e}"))?;
        if json.get("statusCode").is_none() || !json.is_object() {
            let mut response = Response::new(answer.to_vec());
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Ok(response);
        }
        let (status, headers) = head(&json)?;
        let body = json.get("body").and_then(Value::as_str).unwrap_or("");
        let body = if json.get("isBase64Encoded") == Some(&Value::Bool(true)) {
            crate::base64::decode(body.as_bytes()).ok_or("the body is marked base64 but is not")?
        } else {
            body.as_bytes().to_vec()
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }

    /// The status and headers of a payload 2.0 response JSON or of a streamed answer's prelude:
    /// `statusCode` (200 when absent, as function URLs default it), `headers`, and each of
    /// `cookies` as a `Set-Cookie`.
    pub(crate) fn head(json: &Value) -> Result<(StatusCode, HeaderMap), String> {
        let status = match json.get("statusCode") {
            None => StatusCode::OK,
            Some(status) => status
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .and_then(|s| StatusCode::from_u16(s).ok())
                .ok_or_else(|| format!("statusCode {status} is no HTTP status"))?,
        };
        let mut headers = HeaderMap::new();
        for (name, value) in json
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let value = value
                .as_str()
                .ok_or_else(|| format!("header {name} is not a string"))?;
            let (Ok(name), Ok(value)) = (
                http::header::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) else {
                return Err(format!("header {name}: {value:?} is not valid HTTP"));
            };
            headers.append(name, value);
        }
        for cookie in json
            .get("cookies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let cookie = cookie.as_str().and_then(|c| HeaderValue::from_str(c).ok());
            headers.append(SET_COOKIE, cookie.ok_or("a cookie is not a header value")?);
        }
        Ok((status, headers))
    }
}
