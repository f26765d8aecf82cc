//! Differential tests against AWS's `lambda_http` on the same real events: where the two
//! agree, and the exact list of where they differ on purpose (README, "HTTP functions",
//! differences from `lambda_http`). A difference not in the list fails, and so does a listed
//! one that went away.

use std::collections::BTreeMap;
use std::future::poll_fn;
use std::time::Duration;

use axum::Router;
use axum::routing::any;
use http::Response;
use serde_json::{Value, json};
use tower_service::Service;

use super::event;
use super::event::tests::fixture;
use crate::Context;

/// What a service can tell from a request, in a form two translators can be compared on: the
/// query as decoded pairs (order and encoding differ without changing meaning), every header
/// value, the body's bytes.
#[derive(Debug, PartialEq)]
struct Seen {
    method: String,
    scheme_host: String,
    path: String,
    query: Vec<(String, String)>,
    headers: BTreeMap<String, Vec<String>>,
    body: Vec<u8>,
}

fn seen(parts: &http::request::Parts, body: &[u8]) -> Seen {
    let mut query: Vec<(String, String)> = parts
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    query.sort();
    let mut headers = BTreeMap::new();
    for name in parts.headers.keys() {
        let values = parts.headers.get_all(name).iter();
        let mut values: Vec<String> = values.map(|v| v.to_str().unwrap().to_owned()).collect();
        values.sort();
        headers.insert(name.to_string(), values);
    }
    Seen {
        method: parts.method.to_string(),
        scheme_host: format!(
            "{}://{}",
            parts.uri.scheme_str().unwrap_or(""),
            parts.uri.authority().map_or("", |a| a.as_str())
        ),
        path: parts.uri.path().to_owned(),
        query,
        headers,
        body: body.to_vec(),
    }
}

/// Percent-decoding, `+` as a space (form encoding, which `lambda_http` writes).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn ours(name: &str) -> Seen {
    let ctx = Context::for_test("req-1", Duration::from_secs(3));
    let request = event::translate(&fixture(name), ctx)
        .unwrap()
        .request
        .unwrap();
    let (parts, body) = request.into_parts();
    seen(&parts, body.as_bytes())
}

fn theirs(name: &str) -> Seen {
    let text = String::from_utf8(fixture(name)).unwrap();
    let request = lambda_http::request::from_str(&text).unwrap();
    let (parts, body) = request.into_parts();
    seen(&parts, &body)
}

/// The parts of the request where we differ from `lambda_http`, and why (README).
const REQUEST_DIFFERENCES: &[(&str, &[&str])] = &[
    // No Host and no domain name: whether the client used an execute-api URL (stage in the
    // path) or a custom domain (not) is unknown; we do not invent a stage segment.
    ("apigw_no_host.json", &["path"]),
    // requestContext.path is what the client requested; lambda_http prefixes the stage to `path`.
    ("example-apigw-request.json", &["path"]),
    // SAM local serves a REST API at the root (http://127.0.0.1:3000/test): no stage.
    ("example-apigw-sam-rest-request.json", &["path"]),
    // A custom domain with base path `v1`: the client requested /v1/pets/7, never /prod/...
    ("apigw_v1_custom_domain_base_path.json", &["path"]),
    // An HTTP API on a custom domain: API Gateway put /prod in rawPath, the client did not.
    ("apigw_v2_custom_domain_named_stage.json", &["path"]),
    // multiValueHeaders has every value; lambda_http lets `headers` (the last value) replace them.
    ("apigw_v1_execute_api_stage.json", &["headers"]),
    (
        "example-apigw-request-multi-value-parameters.json",
        &["path", "headers"],
    ),
    ("alb_multi_value_request.json", &["headers"]),
    (
        "alb_multi_value_request_encoded_query_parameters.json",
        &["headers"],
    ),
    // `cookies: []`: lambda_http adds an empty `Cookie:` header; we add none.
    ("apigw_v2_sam_local.json", &["headers"]),
    // An ALB event with multi-value headers only: lambda_http looks for Host in `headers` alone
    // and builds a relative URI; we find it in `multiValueHeaders`.
    (
        "example-alb-lambda-target-request-multivalue-headers.json",
        &["scheme_host"],
    ),
];

const ALL_FIXTURES: &[&str] = &[
    "alb_multi_value_request.json",
    "alb_multi_value_request_encoded_query_parameters.json",
    "alb_no_host.json",
    "alb_request.json",
    "alb_request_encoded_query_parameters.json",
    "apigw_multi_value_proxy_request.json",
    "apigw_no_host.json",
    "apigw_proxy_request.json",
    "apigw_request_path_with_space.json",
    "apigw_v1_custom_domain_base_path.json",
    "apigw_v1_execute_api_stage.json",
    "apigw_v2_custom_domain_named_stage.json",
    "apigw_v2_proxy_request.json",
    "apigw_v2_proxy_request_minimal.json",
    "apigw_v2_proxy_request_with_stage_in_path.json",
    "apigw_v2_sam_local.json",
    "example-alb-lambda-target-request-headers-only.json",
    "example-alb-lambda-target-request-multivalue-headers.json",
    "example-apigw-request.json",
    "example-apigw-request-multi-value-parameters.json",
    "example-apigw-sam-rest-request.json",
    "example-apigw-v2-request-iam.json",
    "example-apigw-v2-request-jwt-authorizer.json",
    "example-apigw-v2-request-no-authorizer.json",
    "lambda_function_url_request.json",
];

fn differing_parts(a: &Seen, b: &Seen) -> Vec<&'static str> {
    let mut parts = Vec::new();
    for (name, differs) in [
        ("method", a.method != b.method),
        ("scheme_host", a.scheme_host != b.scheme_host),
        ("path", a.path != b.path),
        ("query", a.query != b.query),
        ("headers", a.headers != b.headers),
        ("body", a.body != b.body),
    ] {
        if differs {
            parts.push(name);
        }
    }
    parts
}

#[test]
fn requests_agree_with_lambda_http_except_where_listed() {
    let mut unexpected = Vec::new();
    for name in ALL_FIXTURES {
        let (a, b) = (ours(name), theirs(name));
        let expected = REQUEST_DIFFERENCES
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[][..], |(_, parts)| parts);
        let found = differing_parts(&a, &b);
        if found != expected {
            unexpected.push(format!(
                "{name}: {found:?}, listed {expected:?}\n ours:   {a:?}\n theirs: {b:?}"
            ));
        }
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}

#[test]
fn the_listed_request_differences_are_the_ones_the_readme_gives() {
    // Spot checks of the values, so a listed difference is the documented one.
    assert_eq!(ours("example-apigw-sam-rest-request.json").path, "/test");
    assert_eq!(
        theirs("example-apigw-sam-rest-request.json").path,
        "/Prod/test"
    );
    assert_eq!(
        ours("apigw_v2_custom_domain_named_stage.json").path,
        "/pets/7"
    );
    assert_eq!(
        theirs("apigw_v2_custom_domain_named_stage.json").path,
        "/prod/pets/7"
    );
    let ours_mv = ours("alb_multi_value_request.json");
    assert_eq!(ours_mv.headers["cookie"], ["name1=value1", "name2=value2"]);
    assert_eq!(
        theirs("alb_multi_value_request.json").headers["cookie"],
        ["name1=value1"]
    );
    assert!(
        !ours("apigw_v2_sam_local.json")
            .headers
            .contains_key("cookie")
    );
    assert_eq!(theirs("apigw_v2_sam_local.json").headers["cookie"], [""]);
}

#[test]
fn an_invalid_base64_body_panics_lambda_http_and_is_a_400_here() {
    let mut event: Value = serde_json::from_slice(&fixture("apigw_v2_proxy_request.json")).unwrap();
    event["isBase64Encoded"] = json!(true);
    event["body"] = json!("*not base64*");
    let text = event.to_string();
    let theirs = std::panic::catch_unwind(|| lambda_http::request::from_str(&text));
    assert!(
        theirs.is_err(),
        "lambda_http no longer panics: update the README"
    );
    let ctx = Context::for_test("req-1", Duration::from_secs(3));
    let ours = event::translate(text.as_bytes(), ctx).unwrap();
    assert!(ours.request.unwrap_err().0.contains("base64"));
}

/// The app both adapters serve in the response tests: the response is picked by the path.
fn app() -> Router {
    Router::new().route(
        "/{*kind}",
        any(
            |axum::extract::Path(kind): axum::extract::Path<String>| async move {
                let mut response = Response::builder();
                // The last segment: a stage in front of it (a REST API event) does not matter.
                let body: Vec<u8> = match kind.rsplit('/').next().unwrap_or_default() {
                    "json" => {
                        response = response
                            .header("content-type", "application/json")
                            .header("vary", "Origin")
                            .header("vary", "Accept-Encoding")
                            .header("set-cookie", "a=1; Path=/")
                            .header("set-cookie", "b=2");
                        br#"{"ok":true}"#.to_vec()
                    }
                    "png" => {
                        response = response.header("content-type", "image/png");
                        b"\x89PNG\r\n\x1a\n\0\xff".to_vec()
                    }
                    "gzip" => {
                        response = response
                            .header("content-type", "application/json")
                            .header("content-encoding", "gzip");
                        b"\x1f\x8b\x08\0\0\0\0\0".to_vec()
                    }
                    "latin1" => {
                        response =
                            response.header("content-type", "text/plain; charset=iso-8859-1");
                        b"caf\xe9".to_vec()
                    }
                    _ => {
                        response = response.status(404).header("content-type", "text/plain");
                        b"no such thing".to_vec()
                    }
                };
                response.body(axum::body::Body::from(body)).unwrap()
            },
        ),
    )
}

/// An event of `fixture`'s source for the path `/{kind}`.
fn event_for(fixture_name: &str, kind: &str) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(&fixture(fixture_name)).unwrap();
    let path = format!("/{kind}");
    if event.get("rawPath").is_some() {
        event["rawPath"] = json!(path);
    } else {
        event["path"] = json!(path);
        if let Some(context) = event["requestContext"].as_object_mut() {
            if context.contains_key("path") {
                context.insert("path".into(), json!(path));
            }
        }
    }
    event.to_string().into_bytes()
}

async fn our_answer(event: &[u8]) -> Value {
    let ctx = Context::for_test("req-1", Duration::from_secs(3));
    serde_json::from_slice(
        &super::service::answer(&mut app(), event, ctx)
            .await
            .unwrap(),
    )
    .unwrap()
}

async fn their_answer(event: &[u8]) -> Value {
    let payload: lambda_http::request::LambdaRequest = serde_json::from_slice(event).unwrap();
    let mut adapter = lambda_http::Adapter::from(app());
    poll_fn(|cx| adapter.poll_ready(cx)).await.unwrap();
    let event = lambda_http::LambdaEvent::new(payload, lambda_http::Context::default());
    serde_json::to_value(adapter.call(event).await.unwrap()).unwrap()
}

/// Drops what carries no meaning: empty `headers` / `multiValueHeaders` / `cookies`.
fn meaningful(mut answer: Value) -> Value {
    if let Some(map) = answer.as_object_mut() {
        map.retain(|key, value| {
            let empty = value.as_object().is_some_and(|o| o.is_empty())
                || value.as_array().is_some_and(|a| a.is_empty());
            !(empty && ["headers", "multiValueHeaders", "cookies"].contains(&key.as_str()))
        });
    }
    answer
}

/// Where our responses differ from lambda_http's, per (source fixture, response kind), and why.
const RESPONSE_DIFFERENCES: &[(&str, &str, &[&str])] = &[
    // Repeated response headers: lambda_http keeps only the first `Vary` in `headers`; we
    // join them (`Origin, Accept-Encoding`).
    ("apigw_v2_proxy_request.json", "json", &["headers"]),
    // ALB: we answer in the header mode the event came in; lambda_http sends both maps (and
    // drops repeated values from `headers`, as above).
    (
        "alb_request.json",
        "json",
        &["headers", "multiValueHeaders"],
    ),
    ("alb_request.json", "png", &["multiValueHeaders"]),
    ("alb_request.json", "gzip", &["multiValueHeaders"]),
    ("alb_request.json", "404", &["multiValueHeaders"]),
    ("alb_multi_value_request.json", "json", &["headers"]),
    ("alb_multi_value_request.json", "png", &["headers"]),
    ("alb_multi_value_request.json", "gzip", &["headers"]),
    ("alb_multi_value_request.json", "404", &["headers"]),
    // Latin-1 text: we send the service's bytes (base64); lambda_http transcodes them to
    // UTF-8 text while the Content-Type still says iso-8859-1.
    (
        "apigw_multi_value_proxy_request.json",
        "latin1",
        &["body", "isBase64Encoded"],
    ),
    (
        "apigw_v2_proxy_request.json",
        "latin1",
        &["body", "isBase64Encoded"],
    ),
    (
        "alb_request.json",
        "latin1",
        &["body", "isBase64Encoded", "multiValueHeaders"],
    ),
    (
        "alb_multi_value_request.json",
        "latin1",
        &["body", "headers", "isBase64Encoded"],
    ),
];

#[tokio::test(flavor = "current_thread")]
async fn responses_agree_with_lambda_http_except_where_listed() {
    let mut unexpected = Vec::new();
    for source in [
        "apigw_multi_value_proxy_request.json",
        "apigw_v2_proxy_request.json",
        "alb_request.json",
        "alb_multi_value_request.json",
    ] {
        for kind in ["json", "png", "gzip", "latin1", "404"] {
            let event = event_for(source, kind);
            let (a, b) = (
                meaningful(our_answer(&event).await),
                meaningful(their_answer(&event).await),
            );
            let keys: std::collections::BTreeSet<&String> = a
                .as_object()
                .unwrap()
                .keys()
                .chain(b.as_object().unwrap().keys())
                .collect();
            let differing: Vec<&str> = keys
                .into_iter()
                .filter(|k| a.get(k.as_str()) != b.get(k.as_str()))
                .map(String::as_str)
                .collect();
            let expected = RESPONSE_DIFFERENCES
                .iter()
                .find(|(s, k, _)| *s == source && *k == kind)
                .map_or(&[][..], |(_, _, parts)| parts);
            if differing != expected {
                unexpected.push(format!("{source} {kind}: {differing:?}, listed {expected:?}\n ours:   {a}\n theirs: {b}"));
            }
        }
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}
