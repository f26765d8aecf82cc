//! The fuzz entry point of the event translation (not a supported API; compiled with the
//! `fuzzing` feature, which `fuzz/` turns on, and in tests, which run it over every fixture).

use std::time::Duration;

use http::StatusCode;

use super::event::{self, Refused, apigw_v2};
use crate::Context;

/// `bytes` as an event: translating never panics; a request that is built has an absolute
/// path and a URI that parses again from its own text; a refused one gets a `400` in its
/// source's JSON; and the request's headers and body, sent back as a response, make valid JSON
/// whose body is the same bytes (as text or base64).
pub fn http_event(bytes: &[u8]) {
    let ctx = Context::for_test("fuzz", Duration::from_secs(3));
    let Ok(translated) = event::translate(bytes, ctx) else {
        return;
    };
    let shape = translated.shape;
    match translated.request {
        Err(Refused(why)) => {
            let answer: serde_json::Value =
                serde_json::from_slice(&shape.refusal(StatusCode::BAD_REQUEST, &why))
                    .expect("a refusal is JSON");
            assert_eq!(answer["statusCode"], 400);
        }
        Ok(request) => {
            let uri = request.uri();
            assert!(uri.path().starts_with('/'), "{uri}");
            let again: http::Uri = uri.to_string().parse().expect("the URI parses again");
            assert_eq!(&again, uri);
            let host = request.headers().get(http::header::HOST);
            if let Some(host) = host.filter(|h| !h.is_empty()) {
                // The Host header, when it is the authority, is all of it: nothing of it
                // leaked into the path or query.
                if let Some(authority) = uri.authority() {
                    assert_eq!(authority.as_str().as_bytes(), host.as_bytes());
                }
            }
            let (parts, body) = request.into_parts();
            round_trip(&parts, body.as_bytes());
            let mut head = http::Response::new(()).into_parts().0;
            head.headers = parts.headers;
            let answer: serde_json::Value =
                serde_json::from_slice(&shape.response(&head, body.as_bytes()))
                    .expect("a response is JSON");
            assert_eq!(answer["statusCode"], 200);
            let sent = answer["body"].as_str().expect("a body string");
            let sent = if answer["isBase64Encoded"] == true {
                crate::base64::decode(sent.as_bytes()).expect("base64")
            } else {
                sent.as_bytes().to_vec()
            };
            assert_eq!(sent, body.as_bytes());
        }
    }
}

/// The request as the emulator's HTTP front would wrap it (payload 2.0), translated again: the
/// service sees the same method, path, query, cookies and body; and a payload 2.0 response of
/// its headers and body, read back as HTTP, has the same status, headers and bytes.
fn round_trip(parts: &http::request::Parts, body: &[u8]) {
    let domain = parts.uri.host().unwrap_or("localhost");
    let wrapped = apigw_v2::emulated::event(parts, body, domain, "fuzz");
    let ctx = Context::for_test("fuzz", Duration::from_secs(3));
    let again = event::translate(&wrapped, ctx).expect("the wrapped event translates");
    let v2 = [event::Shape::ApiGatewayV2, event::Shape::FunctionUrl];
    assert!(v2.contains(&again.shape), "{:?}", again.shape);
    let again = again.request.expect("the wrapped request is valid");
    assert_eq!(again.method(), parts.method);
    assert_eq!(again.uri().path(), parts.uri.path());
    assert_eq!(
        again.uri().query(),
        parts.uri.query().filter(|q| !q.is_empty())
    );
    assert_eq!(again.body().as_bytes(), body);
    let cookies = |h: &http::HeaderMap| -> Vec<String> {
        let values = h.get_all(http::header::COOKIE).iter();
        let all = values.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let split: Vec<String> = all
            .flat_map(|v| {
                v.split(';')
                    .map(|c| c.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        split.into_iter().filter(|c| !c.is_empty()).collect()
    };
    assert_eq!(cookies(again.headers()), cookies(&parts.headers));

    let mut head = http::Response::new(()).into_parts().0;
    head.headers = parts.headers.clone();
    head.headers.remove(http::header::COOKIE);
    let answer = event::Shape::ApiGatewayV2.response(&head, body);
    let response = apigw_v2::emulated::response(&answer).expect("our answer reads back");
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), body);
    for name in head.headers.keys() {
        let joined = |h: &http::HeaderMap| -> Vec<Vec<u8>> {
            h.get_all(name)
                .iter()
                .map(|v| v.as_bytes().to_vec())
                .collect()
        };
        if name == http::header::SET_COOKIE {
            assert_eq!(joined(response.headers()), joined(&head.headers));
        } else {
            let ours = joined(&head.headers).join(&b", "[..]);
            assert_eq!(joined(response.headers()), [ours], "{name}");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::http::event::tests::fixture;

    #[test]
    fn every_fixture_and_its_mutations_keep_the_invariants() {
        let dir = format!("{}/tests/data/http", env!("CARGO_MANIFEST_DIR"));
        let mut count = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if !name.ends_with(".json") {
                continue;
            }
            let bytes = fixture(&name);
            http_event(&bytes);
            let event: Value = serde_json::from_slice(&bytes).unwrap();
            for (key, value) in [
                ("body", json!("\u{0}\u{ff}caf\u{e9}")),
                ("isBase64Encoded", json!(true)),
                ("rawPath", json!("/a b/%zz/?#")),
                ("path", json!("//x/../\u{1}")),
                ("rawQueryString", json!("a=1&&=&#x")),
                ("headers", json!({"X": "a\u{7f}b", "host": "exa mple"})),
                ("headers", json!({"host": "caf\u{e9}.example"})),
                ("headers", json!({"host": ""})),
                (
                    "multiValueHeaders",
                    json!({"set-cookie": ["a", "b"], "": ["x"]}),
                ),
                ("cookies", json!(["a=1", "\n"])),
            ] {
                let mut mutated = event.clone();
                mutated[key] = value;
                http_event(mutated.to_string().as_bytes());
            }
            for cut in [1, bytes.len() / 2, bytes.len() - 1] {
                http_event(&bytes[..cut]);
            }
            count += 1;
        }
        assert!(count >= 20, "only {count} fixtures");
    }
}
