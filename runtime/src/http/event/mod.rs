//! Events to requests and responses to events, one file per event source (no I/O here).
//!
//! **Detection in one pass.** The event is parsed once, into [`RawEvent`], a union of the keys
//! every source uses; the source is then read off the keys that tell them apart, first match:
//!
//! | key present                                    | source                                  |
//! |------------------------------------------------|-----------------------------------------|
//! | `requestContext.elb`                           | ALB ([`alb`])                           |
//! | `version: "2.0"` or `rawPath`                  | HTTP API v2 ([`apigw_v2`]), or a function URL ([`function_url`]) when `requestContext.domainName` is a `*.lambda-url.*` domain |
//! | `httpMethod`                                   | API Gateway REST v1, and HTTP APIs' payload 1.0 ([`apigw_v1`]) |
//!
//! Nothing is parsed twice and no shape is tried and thrown away (`lambda_http` tries up to four
//! shapes in turn). Anything else is not an HTTP event: the invocation fails with
//! `Runtime.UnmarshalError`.
//!
//! **What a bad request costs.** A body marked base64 that is not base64, a method, header or
//! URI that HTTP cannot carry: the caller gets a `400` in its source's response shape, the
//! service never sees the request, nothing panics.

pub(crate) mod alb;
pub(crate) mod apigw_v1;
pub(crate) mod apigw_v2;
pub(crate) mod function_url;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::marker::PhantomData;

use http::header::{CONTENT_TYPE, COOKIE, HOST, HeaderName, HeaderValue, SET_COOKIE};
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

use super::{Body, EventSource, PathParameters, RequestContext, StageVariables, content};
use crate::protocol::error_type;
use crate::{Context, Error};

/// Every key of every source's request event this module reads, parsed in one pass; keys of
/// other sources are simply absent. Maps keep the event's order.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawEvent {
    pub(crate) version: Option<String>,
    pub(crate) http_method: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) raw_path: Option<String>,
    pub(crate) raw_query_string: Option<String>,
    pub(crate) headers: Option<Pairs<String>>,
    pub(crate) multi_value_headers: Option<Pairs<Vec<String>>>,
    pub(crate) query_string_parameters: Option<Pairs<String>>,
    pub(crate) multi_value_query_string_parameters: Option<Pairs<Vec<String>>>,
    pub(crate) cookies: Option<Vec<String>>,
    pub(crate) path_parameters: Option<Pairs<String>>,
    pub(crate) stage_variables: Option<Pairs<String>>,
    pub(crate) request_context: Option<RawContext>,
    pub(crate) body: Option<String>,
    #[serde(default)]
    pub(crate) is_base64_encoded: bool,
}

impl RawEvent {
    /// `requestContext.<key>` as a string, for the keys [`RawContext`] reads.
    pub(crate) fn context_str(&self, key: &str) -> Option<&str> {
        let context = self.request_context.as_ref()?;
        match key {
            "domainName" => context.domain_name.as_deref(),
            "path" => context.path.as_deref(),
            "stage" => context.stage.as_deref(),
            _ => None,
        }
    }
}

/// The keys of `requestContext` the translation reads, parsed without building a JSON tree:
/// whether `elb` is there, the strings `domainName`, `path`, `stage` and `http.method` (a key
/// whose value is no string reads as absent; of a repeated key the last counts, as in a
/// `serde_json::Value`). Anything else is skipped; [`crate::http::RequestContext`] parses the
/// whole object only if the service asks for it.
#[derive(Debug, Default)]
pub(crate) struct RawContext {
    pub(crate) elb: bool,
    pub(crate) domain_name: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) stage: Option<String>,
    pub(crate) http_method: Option<String>,
}

/// A JSON value read as a string if it is one, else as `None` (and skipped whole).
struct MaybeStr(Option<String>);

impl<'de> Deserialize<'de> for MaybeStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Lenient(|s: Option<&str>| MaybeStr(s.map(str::to_owned))))
    }
}

/// A visitor of any JSON value: strings go to the function, every other value (skipped
/// whole) is `None` to it.
struct Lenient<F>(F);

impl<'de, T, F: FnOnce(Option<&str>) -> T> Visitor<'de> for Lenient<F> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<T, E> {
        Ok((self.0)(Some(v)))
    }
    fn visit_bool<E>(self, _: bool) -> Result<T, E> {
        Ok((self.0)(None))
    }
    fn visit_i64<E>(self, _: i64) -> Result<T, E> {
        Ok((self.0)(None))
    }
    fn visit_u64<E>(self, _: u64) -> Result<T, E> {
        Ok((self.0)(None))
    }
    fn visit_f64<E>(self, _: f64) -> Result<T, E> {
        Ok((self.0)(None))
    }
    fn visit_unit<E>(self) -> Result<T, E> {
        Ok((self.0)(None))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((self.0)(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok((self.0)(None))
    }
}

/// A key of `requestContext` (or of its `http`), matched without allocating.
enum ContextKey {
    Elb,
    DomainName,
    Path,
    Stage,
    Http,
    Method,
    Other,
}

impl<'de> Deserialize<'de> for ContextKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Lenient(|key: Option<&str>| match key {
            Some("elb") => ContextKey::Elb,
            Some("domainName") => ContextKey::DomainName,
            Some("path") => ContextKey::Path,
            Some("stage") => ContextKey::Stage,
            Some("http") => ContextKey::Http,
            Some("method") => ContextKey::Method,
            _ => ContextKey::Other,
        }))
    }
}

/// `requestContext.http`: its `method` if it is an object with a string there.
struct RawHttp(Option<String>);

impl<'de> Deserialize<'de> for RawHttp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = RawHttp;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawHttp, A::Error> {
                let mut method = None;
                while let Some(key) = map.next_key::<ContextKey>()? {
                    match key {
                        ContextKey::Method => method = map.next_value::<MaybeStr>()?.0,
                        _ => drop(map.next_value::<IgnoredAny>()?),
                    }
                }
                Ok(RawHttp(method))
            }
        }
        match deserializer.deserialize_any(OrSkip(Visit)) {
            Ok(Some(http)) => Ok(http),
            Ok(None) => Ok(RawHttp(None)),
            Err(e) => Err(e),
        }
    }
}

impl<'de> Deserialize<'de> for RawContext {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = RawContext;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawContext, A::Error> {
                let mut context = RawContext::default();
                while let Some(key) = map.next_key::<ContextKey>()? {
                    match key {
                        ContextKey::Elb => {
                            map.next_value::<IgnoredAny>()?;
                            context.elb = true;
                        }
                        ContextKey::DomainName => {
                            context.domain_name = map.next_value::<MaybeStr>()?.0;
                        }
                        ContextKey::Path => context.path = map.next_value::<MaybeStr>()?.0,
                        ContextKey::Stage => context.stage = map.next_value::<MaybeStr>()?.0,
                        ContextKey::Http => {
                            context.http_method = map.next_value::<RawHttp>()?.0;
                        }
                        ContextKey::Method | ContextKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(context)
            }
        }
        Ok(deserializer
            .deserialize_any(OrSkip(Visit))?
            .unwrap_or_default())
    }
}

/// A visitor for an object, `None` for any other JSON value (skipped whole).
struct OrSkip<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for OrSkip<V> {
    type Value = Option<V::Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map).map(Some)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// A JSON object (or `null`) as its pairs in the event's order; `null` values are left out.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Pairs<V>(pub(crate) Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Visit<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object or null")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Pairs(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((key, value)) = map.next_entry::<String, Option<V>>()? {
                    if let Some(value) = value {
                        pairs.push((key, value));
                    }
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_any(Visit(PhantomData))
    }
}

/// Appends the query of a REST (v1) or ALB event to `out` as `?key=value&...`, each key and
/// value written by `encode` (the two sources escape differently): every value of `multi`
/// (`multiValueQueryStringParameters`) when the event has it, else `single`
/// (`queryStringParameters`); nothing for no parameters.
///
/// ```text
/// push_query(&mut out, raw.multi_value_query_string_parameters.as_ref(),
///            raw.query_string_parameters.as_ref(), push_component);
/// ```
pub(crate) fn push_query(
    out: &mut String,
    multi: Option<&Pairs<Vec<String>>>,
    single: Option<&Pairs<String>>,
    encode: impl Fn(&mut String, &str),
) {
    let mut first = true;
    let mut pair = |out: &mut String, key: &str, value: &str| {
        out.push(if std::mem::take(&mut first) { '?' } else { '&' });
        encode(out, key);
        out.push('=');
        encode(out, value);
    };
    match multi {
        Some(multi) => {
            for (key, values) in &multi.0 {
                for value in values {
                    pair(out, key, value);
                }
            }
        }
        None => {
            for (key, value) in single.iter().flat_map(|q| &q.0) {
                pair(out, key, value);
            }
        }
    }
}

/// Which source sent the event, and so which JSON its response must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    ApiGatewayV1,
    ApiGatewayV2,
    FunctionUrl,
    /// `multi_value`: the target group has multi-value headers on (the event used them), so the
    /// response must use `multiValueHeaders` too.
    Alb {
        multi_value: bool,
    },
}

impl Shape {
    /// The public name of the source.
    pub(crate) fn source(self) -> EventSource {
        match self {
            Shape::ApiGatewayV1 => EventSource::ApiGatewayV1,
            Shape::ApiGatewayV2 => EventSource::ApiGatewayV2,
            Shape::FunctionUrl => EventSource::FunctionUrl,
            Shape::Alb { .. } => EventSource::Alb,
        }
    }

    /// The source's response JSON for a response's head and whole body.
    pub(crate) fn response(self, head: &http::response::Parts, body: &[u8]) -> Vec<u8> {
        match self {
            Shape::ApiGatewayV1 => apigw_v1::response(head, body),
            Shape::ApiGatewayV2 => apigw_v2::response(head, body),
            Shape::FunctionUrl => function_url::response(head, body),
            Shape::Alb { multi_value } => alb::response(head, body, multi_value),
        }
    }

    /// The response to a request the service never saw: `status` with `message` as plain text.
    pub(crate) fn refusal(self, status: StatusCode, message: &str) -> Vec<u8> {
        let (mut head, ()) = http::Response::new(()).into_parts();
        head.status = status;
        head.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        self.response(&head, message.as_bytes())
    }
}

/// An event turned into a request, or refused with a reason (a `400` for the caller).
#[derive(Debug)]
pub(crate) struct Translated {
    pub(crate) shape: Shape,
    pub(crate) request: Result<Request<Body>, Refused>,
}

/// Why a request could not be built; the caller gets it as a `400`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused(pub(crate) String);

/// The source of an event, from its keys (see the module's table).
pub(crate) fn detect(event: &RawEvent) -> Option<Shape> {
    let context = event.request_context.as_ref();
    if context.is_some_and(|c| c.elb) {
        let multi_value = event.multi_value_headers.is_some()
            || event.multi_value_query_string_parameters.is_some();
        return Some(Shape::Alb { multi_value });
    }
    if event.version.as_deref() == Some("2.0") || event.raw_path.is_some() {
        let url = event
            .context_str("domainName")
            .is_some_and(function_url::is_function_url_domain);
        return Some(if url {
            Shape::FunctionUrl
        } else {
            Shape::ApiGatewayV2
        });
    }
    event.http_method.as_ref().map(|_| Shape::ApiGatewayV1)
}

/// Parses `event` and builds the request a service sees, with `ctx` among its extensions.
/// `Err` when the event is no HTTP event at all (the invocation fails).
pub(crate) fn translate(event: &[u8], ctx: Context) -> Result<Translated, Error> {
    // Checked as UTF-8 once, then parsed as text: `from_slice` would check each string again
    // (`crate::invocation::decode` does the same).
    let unmarshal = |why: &dyn std::fmt::Display| {
        Error::new(
            error_type::UNMARSHAL,
            format!("the event is not an HTTP event's JSON: {why}"),
        )
    };
    let text =
        std::str::from_utf8(event).map_err(|e| unmarshal(&format_args!("not UTF-8 ({e})")))?;
    let raw: RawEvent = serde_json::from_str(text).map_err(|e| unmarshal(&e))?;
    let shape = detect(&raw).ok_or_else(|| {
        Error::new(
            error_type::UNMARSHAL,
            "the event is from none of API Gateway (REST or HTTP API), an Application Load \
             Balancer or a function URL: it has no requestContext.elb, no version 2.0 or \
             rawPath, and no httpMethod",
        )
    })?;
    let request = build(raw, shape, ctx, event);
    Ok(Translated { shape, request })
}

/// The request of an event whose source is `shape`.
fn build(
    mut raw: RawEvent,
    shape: Shape,
    ctx: Context,
    event: &[u8],
) -> Result<Request<Body>, Refused> {
    let method = match shape {
        Shape::ApiGatewayV2 | Shape::FunctionUrl => apigw_v2::method(&raw),
        Shape::ApiGatewayV1 | Shape::Alb { .. } => raw.http_method.as_deref(),
    }
    .ok_or_else(|| Refused("the event names no HTTP method".into()))?;
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| Refused(format!("{method:?} is not an HTTP method")))?;
    let mut headers = headers(&mut raw)?;
    if let Some(cookies) = raw.cookies.take().filter(|c| !c.is_empty()) {
        // HTTP APIs move the Cookie header into `cookies`; one header again, as RFC 6265 sends it.
        let joined = cookies.join("; ");
        let value = HeaderValue::from_str(&joined)
            .map_err(|_| Refused(format!("cookie {joined:?} is not a valid header value")))?;
        headers.insert(COOKIE, value);
    }
    if let Some(trace) = ctx.xray_trace_id.as_deref() {
        // Lambda's trace id continues the caller's, as `lambda_http` passes it.
        if let Ok(value) = HeaderValue::from_str(trace) {
            headers.insert(HeaderName::from_static("x-amzn-trace-id"), value);
        }
    }
    let host = match headers.get(HOST).filter(|h| !h.is_empty()) {
        Some(host) => Some(
            host.to_str()
                .map_err(|_| Refused("Host is not ASCII".into()))?,
        ),
        None => raw.context_str("domainName").filter(|h| !h.is_empty()),
    }
    .map(str::to_owned);
    let target = match shape {
        Shape::ApiGatewayV1 => apigw_v1::target(&raw, host.as_deref()),
        Shape::ApiGatewayV2 | Shape::FunctionUrl => apigw_v2::target(&raw, host.as_deref()),
        Shape::Alb { .. } => alb::target(&raw),
    };
    let uri = match &host {
        // A Host that is no `host[:port]` would move into the path (`a.com/admin`) or the
        // query: refused, not trusted.
        Some(host)
            if host.contains('@') || http::uri::Authority::try_from(host.as_str()).is_err() =>
        {
            return Err(Refused(format!("Host {host:?} is not a host name")));
        }
        Some(host) => {
            let proto = headers.get("x-forwarded-proto").map(HeaderValue::as_bytes);
            let scheme = match proto {
                Some(p) if p.eq_ignore_ascii_case(b"http") => "http",
                _ => "https",
            };
            format!("{scheme}://{host}{target}")
        }
        None => target,
    };
    let uri = Uri::try_from(&uri).map_err(|e| Refused(format!("{uri:?} is no URI: {e}")))?;
    let body = match raw.body.take() {
        None => Body::empty(),
        Some(text) if raw.is_base64_encoded => crate::base64::decode(text.as_bytes())
            .map(Body::from)
            .ok_or_else(|| Refused("the body is marked base64 but is not base64".into()))?,
        Some(text) => Body::from(text),
    };
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    let extensions = request.extensions_mut();
    extensions.insert(PathParameters(into_map(raw.path_parameters.take())));
    extensions.insert(StageVariables(into_map(raw.stage_variables.take())));
    extensions.insert(RequestContext::lazy(shape.source(), event));
    extensions.insert(ctx);
    Ok(request)
}

/// The request's headers: `multiValueHeaders` where the event has them (every value kept),
/// `headers` for the names they lack. (API Gateway REST sends both; `headers` holds only the
/// last value of a repeated header.)
fn headers(raw: &mut RawEvent) -> Result<HeaderMap, Refused> {
    let mut map = HeaderMap::new();
    let bad = |name: &str| Refused(format!("header {name:?} is not valid HTTP"));
    for (name, values) in raw.multi_value_headers.take().unwrap_or_default().0 {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad(&name))?;
        for value in values {
            let value = HeaderValue::from_str(&value).map_err(|_| bad(&name))?;
            map.append(header.clone(), value);
        }
    }
    for (name, value) in raw.headers.take().unwrap_or_default().0 {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad(&name))?;
        if !map.contains_key(&header) {
            let value = HeaderValue::from_str(&value).map_err(|_| bad(&name))?;
            map.insert(header, value);
        }
    }
    Ok(map)
}

fn into_map(pairs: Option<Pairs<String>>) -> HashMap<String, String> {
    pairs.map(|p| p.0.into_iter().collect()).unwrap_or_default()
}

/// A response JSON under construction: `{"statusCode":..., ...}`, fields appended in order.
pub(crate) struct JsonOut(String);

impl JsonOut {
    pub(crate) fn new(status: StatusCode, body_len: usize) -> Self {
        let mut out = String::with_capacity(128 + body_len * 4 / 3);
        let _ = write!(out, "{{\"statusCode\":{}", status.as_u16());
        Self(out)
    }

    /// `,"key":"value"`.
    pub(crate) fn string(&mut self, key: &str, value: &str) {
        let _ = write!(self.0, ",\"{key}\":");
        push_json_string(&mut self.0, value);
    }

    /// `,"key":{"name":"v1, v2"}`: repeated headers joined with `, ` (RFC 9110 §5.3), and
    /// `Set-Cookie` left out when `skip_cookies` (its values cannot be joined).
    pub(crate) fn joined_headers(&mut self, key: &str, headers: &HeaderMap, skip_cookies: bool) {
        let _ = write!(self.0, ",\"{key}\":{{");
        let mut first = true;
        for name in headers.keys() {
            if skip_cookies && name == SET_COOKIE {
                continue;
            }
            if !std::mem::take(&mut first) {
                self.0.push(',');
            }
            push_json_string(&mut self.0, name.as_str());
            self.0.push(':');
            let mut joined = String::new();
            for (i, value) in headers.get_all(name).iter().enumerate() {
                if i > 0 {
                    joined.push_str(", ");
                }
                joined.push_str(&String::from_utf8_lossy(value.as_bytes()));
            }
            push_json_string(&mut self.0, &joined);
        }
        self.0.push('}');
    }

    /// `,"key":{"name":["v1","v2"]}`: every value of every header.
    pub(crate) fn multi_value_headers(&mut self, key: &str, headers: &HeaderMap) {
        let _ = write!(self.0, ",\"{key}\":{{");
        for (i, name) in headers.keys().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            push_json_string(&mut self.0, name.as_str());
            self.0.push_str(":[");
            for (j, value) in headers.get_all(name).iter().enumerate() {
                if j > 0 {
                    self.0.push(',');
                }
                push_json_string(&mut self.0, &String::from_utf8_lossy(value.as_bytes()));
            }
            self.0.push(']');
        }
        self.0.push('}');
    }

    /// `,"cookies":["a=1; Path=/", ...]`: every `Set-Cookie` value.
    pub(crate) fn cookies(&mut self, headers: &HeaderMap) {
        self.0.push_str(",\"cookies\":[");
        for (i, value) in headers.get_all(SET_COOKIE).iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            push_json_string(&mut self.0, &String::from_utf8_lossy(value.as_bytes()));
        }
        self.0.push(']');
    }

    /// `,"body":...,"isBase64Encoded":...` by the rule of [`content`], and the closing brace.
    pub(crate) fn finish_with_body(mut self, headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
        self.0.push_str(",\"body\":");
        let text = content::is_text(headers, body);
        match std::str::from_utf8(body) {
            Ok(body) if text => push_json_string(&mut self.0, body),
            _ => {
                self.0.push('"');
                self.0.push_str(&crate::base64::encode(body));
                self.0.push('"');
            }
        }
        let _ = write!(self.0, ",\"isBase64Encoded\":{}}}", !text);
        self.0.into_bytes()
    }

    /// The closing brace, for a JSON without a body (the streaming prelude).
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.0.push('}');
        self.0.into_bytes()
    }
}

/// `text` as a JSON string literal.
pub(crate) fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
pub(crate) mod tests;
