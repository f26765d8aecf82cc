//! The fuzz entry point of the event translation (not a supported API; compiled with the
//! `fuzzing` feature, which `fuzz/` turns on, and in tests, which run it over every fixture).

use std::time::Duration;

use http::StatusCode;

use super::event::{self, Refused};
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
