//! The mapping rules of every source, both directions, on real events (see
//! `runtime/tests/data/http/SOURCES.md` for where each comes from).

use std::time::Duration;

use http::{Request, StatusCode};
use serde_json::{Value, json};

use super::*;
use crate::http::{Body, EventSource, PathParameters, RequestContext, StageVariables};

/// A fixture's bytes.
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/http/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ctx() -> Context {
    Context::for_test("req-1", Duration::from_secs(3))
}

/// The request a fixture becomes, and its source.
fn request(name: &str) -> (Request<Body>, Shape) {
    let t = translate(&fixture(name), ctx()).unwrap();
    (t.request.unwrap(), t.shape)
}

fn header<'a>(r: &'a Request<Body>, name: &str) -> Vec<&'a str> {
    r.headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

#[test]
fn every_fixture_is_detected_as_its_source() {
    let v1 = Shape::ApiGatewayV1;
    let v2 = Shape::ApiGatewayV2;
    let single = Shape::Alb { multi_value: false };
    let multi = Shape::Alb { multi_value: true };
    for (name, shape) in [
        ("apigw_proxy_request.json", v1),
        ("apigw_multi_value_proxy_request.json", v1),
        ("apigw_no_host.json", v1),
        ("apigw_v1_execute_api_stage.json", v1),
        ("apigw_v1_custom_domain_base_path.json", v1),
        ("example-apigw-request.json", v1),
        ("example-apigw-request-multi-value-parameters.json", v1),
        ("example-apigw-sam-rest-request.json", v1),
        ("apigw_v2_proxy_request.json", v2),
        ("apigw_v2_proxy_request_minimal.json", v2),
        ("apigw_v2_proxy_request_with_stage_in_path.json", v2),
        ("apigw_v2_custom_domain_named_stage.json", v2),
        ("apigw_request_path_with_space.json", v2),
        ("apigw_v2_sam_local.json", v2),
        ("example-apigw-v2-request-no-authorizer.json", v2),
        ("example-apigw-v2-request-jwt-authorizer.json", v2),
        ("example-apigw-v2-request-iam.json", v2),
        ("lambda_function_url_request.json", Shape::FunctionUrl),
        ("alb_request.json", single),
        ("alb_request_encoded_query_parameters.json", single),
        ("alb_no_host.json", single),
        (
            "example-alb-lambda-target-request-headers-only.json",
            single,
        ),
        ("alb_multi_value_request.json", multi),
        (
            "alb_multi_value_request_encoded_query_parameters.json",
            multi,
        ),
        (
            "example-alb-lambda-target-request-multivalue-headers.json",
            multi,
        ),
    ] {
        let t = translate(&fixture(name), ctx()).unwrap();
        assert_eq!(t.shape, shape, "{name}");
        assert!(t.request.is_ok(), "{name}: {:?}", t.request);
    }
}

#[test]
fn events_of_no_http_source_fail_the_invocation() {
    for event in [
        &br#"{"Records":[{"eventSource":"aws:sqs"}]}"#[..],
        br#"{"requestContext":{"requestId":"x"}}"#,
        br#"[1,2]"#,
        b"not json",
        br#"{"httpMethod":7}"#,
    ] {
        let e = translate(event, ctx()).unwrap_err();
        assert_eq!(e.error_type(), error_type::UNMARSHAL, "{event:?}");
    }
}

#[test]
fn rest_api_request_method_uri_headers_body_and_extensions() {
    let (r, _) = request("apigw_multi_value_proxy_request.json");
    assert_eq!(r.method(), "POST");
    // No requestContext.path: `path`, with the stage put back on an execute-api host.
    assert_eq!(
        r.uri(),
        "https://gy415nuibc.execute-api.us-east-1.amazonaws.com/testStage/hello/world\
         ?name=me&multiValueName=you&multiValueName=me"
    );
    assert_eq!(
        header(&r, "x-forwarded-for"),
        ["54.240.196.186, 54.182.214.83"]
    );
    assert_eq!(header(&r, "content-type"), ["application/json"]);
    assert_eq!(r.body().as_bytes(), b"{\r\n\t\"a\": 1\r\n}");
    let params = &r.extensions().get::<PathParameters>().unwrap().0;
    assert_eq!(params["proxy"], "hello/world");
    let stage = &r.extensions().get::<StageVariables>().unwrap().0;
    assert_eq!(stage["stageVariableName"], "stageVariableValue");
    let context = r.extensions().get::<RequestContext>().unwrap();
    assert_eq!(context.source(), EventSource::ApiGatewayV1);
    assert_eq!(context.get("resourceId").unwrap(), "roq9wj");
    assert_eq!(r.extensions().get::<Context>().unwrap().request_id, "req-1");
}

#[test]
fn rest_api_keeps_every_value_of_repeated_headers_and_query_keys() {
    let (r, _) = request("apigw_v1_execute_api_stage.json");
    // `headers` has only the last Accept; multiValueHeaders has both, and both reach the service.
    assert_eq!(header(&r, "accept"), ["image/avif", "image/webp"]);
    // Decoded values are encoded again; repeated keys keep every value, in order.
    assert_eq!(r.uri().query(), Some("size=small&size=large&q=a%20b%26c"));
}

#[test]
fn rest_api_path_is_what_the_client_requested() {
    // execute-api URL: the stage is the first segment of the client's URL.
    let (r, _) = request("apigw_v1_execute_api_stage.json");
    assert_eq!(r.uri().path(), "/prod/pets/7");
    assert_eq!(
        r.uri().host(),
        Some("abc123def4.execute-api.eu-west-1.amazonaws.com")
    );
    // Custom domain with base path mapping `v1`: the client's path has `/v1`, not the stage.
    let (r, _) = request("apigw_v1_custom_domain_base_path.json");
    assert_eq!(r.uri(), "https://api.example.com/v1/pets/7");
    // SAM local (stage Prod, http://127.0.0.1:3000/test): no stage in the client's URL.
    let (r, _) = request("example-apigw-sam-rest-request.json");
    assert_eq!(r.uri(), "http://127.0.0.1:3000/test");
    // No Host and no domain (a console test event): the path alone, relative.
    let (r, _) = request("apigw_no_host.json");
    assert_eq!(r.uri(), "/hello?name=me");
    // requestContext.path wins over `path` when the event has it.
    let (r, _) = request("example-apigw-request.json");
    assert_eq!(r.uri().path(), "/hello/world");
}

#[test]
fn http_api_request_method_uri_cookies_body() {
    let (r, shape) = request("apigw_v2_proxy_request.json");
    assert_eq!(shape.source(), EventSource::ApiGatewayV2);
    assert_eq!(r.method(), "POST");
    assert_eq!(
        r.uri(),
        "https://id.execute-api.us-east-1.amazonaws.com/my/path\
         ?parameter1=value1&parameter1=value2&parameter2=value"
    );
    assert_eq!(header(&r, "cookie"), ["cookie1=value1; cookie2=value2"]);
    assert_eq!(header(&r, "header1"), ["value1"]);
    assert_eq!(r.body().as_bytes(), b"Hello from Lambda");
    let params = &r.extensions().get::<PathParameters>().unwrap().0;
    assert_eq!(params["parameter1"], "value1");
    let context = r.extensions().get::<RequestContext>().unwrap();
    assert_eq!(
        context.get("authorizer").unwrap()["jwt"]["scopes"][0],
        "scope1"
    );
}

#[test]
fn http_api_raw_query_string_is_kept_verbatim() {
    let (r, _) = request("apigw_v2_custom_domain_named_stage.json");
    assert_eq!(r.uri().query(), Some("fields=name&fields=age&note=a%20b"));
    let mut event: Value = serde_json::from_slice(&fixture("apigw_v2_proxy_request.json")).unwrap();
    event["rawQueryString"] = json!("b=2&a=1&a=%2F&flag&x=caf\u{e9} y");
    let t = translate(event.to_string().as_bytes(), ctx()).unwrap();
    let r = t.request.unwrap();
    assert_eq!(r.uri().query(), Some("b=2&a=1&a=%2F&flag&x=caf%C3%A9%20y"));
}

#[test]
fn http_api_path_is_what_the_client_requested() {
    // $default stage: rawPath.
    let (r, _) = request("apigw_v2_proxy_request_minimal.json");
    assert_eq!(r.uri(), "https://xxx.execute-api.us-east-1.amazonaws.com/");
    // Named stage on the execute-api URL: the client typed it, it stays (once).
    let (r, _) = request("apigw_v2_proxy_request_with_stage_in_path.json");
    assert_eq!(r.uri().path(), "/Prod/my/path");
    // Named stage through a custom domain: API Gateway added it, it goes.
    let (r, _) = request("apigw_v2_custom_domain_named_stage.json");
    assert_eq!(
        r.uri(),
        "https://api.example.com/pets/7?fields=name&fields=age&note=a%20b"
    );
    // A path with a space: escaped, not refused.
    let (r, _) = request("apigw_request_path_with_space.json");
    assert_eq!(r.uri().path(), "/my/path-with%20space");
    // SAM local: the scheme from X-Forwarded-Proto, the host from Host.
    let (r, _) = request("apigw_v2_sam_local.json");
    assert_eq!(r.uri(), "http://127.0.0.1:3000/hello");
}

#[test]
fn function_url_request_and_its_cookies() {
    let (r, shape) = request("lambda_function_url_request.json");
    assert_eq!(shape, Shape::FunctionUrl);
    assert_eq!(
        r.uri(),
        "https://id.lambda-url.eu-west-2.on.aws/my/path\
         ?parameter1=value1&parameter1=value2&parameter2=value"
    );
    // The event has both a cookie header and `cookies`: one Cookie header, from `cookies`.
    assert_eq!(header(&r, "cookie"), ["test=hi"]);
    let context = r.extensions().get::<RequestContext>().unwrap();
    assert_eq!(context.source(), EventSource::FunctionUrl);
}

#[test]
fn alb_query_values_reach_the_service_as_the_client_encoded_them() {
    let (r, _) = request("alb_request.json");
    assert_eq!(
        r.uri(),
        "https://lambda-846800462-us-east-2.elb.amazonaws.com/?myKey=val2"
    );
    assert_eq!(r.body().as_bytes(), b"request_body");
    let (r, _) = request("alb_request_encoded_query_parameters.json");
    assert_eq!(r.uri().query(), Some("myKey=%3FshowAll%3Dtrue"));
    let (r, _) = request("alb_multi_value_request_encoded_query_parameters.json");
    assert_eq!(
        r.uri().query(),
        Some("myKey=%3FshowAll%3Dtrue&myKey=%3FshowAll%3Dfalse")
    );
    let (r, _) = request("alb_no_host.json");
    assert_eq!(r.uri(), "/v1/health/");
    let (r, _) = request("example-alb-lambda-target-request-headers-only.json");
    assert_eq!(
        r.uri(),
        "http://lambda-test-alb-1334523864.us-east-1.elb.amazonaws.com/?key=hello"
    );
    let context = r.extensions().get::<RequestContext>().unwrap();
    assert_eq!(context.source(), EventSource::Alb);
    assert!(context.get("elb").is_some());
}

#[test]
fn alb_multi_value_mode_keeps_every_value() {
    let (r, shape) = request("alb_multi_value_request.json");
    assert_eq!(shape, Shape::Alb { multi_value: true });
    assert_eq!(header(&r, "cookie"), ["name1=value1", "name2=value2"]);
    assert_eq!(
        r.uri().query(),
        Some("myKey=val1&myKey=val2&myOtherKey=val3&myOtherKey=val4")
    );
}

#[test]
fn a_base64_body_is_decoded_and_an_invalid_one_is_a_400_for_the_caller() {
    let (r, _) = request("apigw_v1_execute_api_stage.json");
    assert!(r.body().as_bytes().starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(r.body().as_bytes().len(), 70);
    for name in [
        "apigw_v2_proxy_request.json",
        "apigw_multi_value_proxy_request.json",
        "alb_request.json",
    ] {
        let mut event: Value = serde_json::from_slice(&fixture(name)).unwrap();
        event["isBase64Encoded"] = json!(true);
        event["body"] = json!("not base64!");
        let t = translate(event.to_string().as_bytes(), ctx()).unwrap();
        let refused = t.request.unwrap_err();
        assert!(refused.0.contains("base64"), "{name}: {refused:?}");
        let answer: Value =
            serde_json::from_slice(&t.shape.refusal(StatusCode::BAD_REQUEST, &refused.0)).unwrap();
        assert_eq!(answer["statusCode"], 400, "{name}");
        assert_eq!(answer["isBase64Encoded"], false, "{name}");
        assert!(
            answer["body"].as_str().unwrap().contains("base64"),
            "{name}"
        );
    }
}

#[test]
fn unusable_methods_and_headers_are_400s_not_panics() {
    let mut event: Value = serde_json::from_slice(&fixture("alb_request.json")).unwrap();
    event["httpMethod"] = json!("GE T");
    let t = translate(event.to_string().as_bytes(), ctx()).unwrap();
    assert!(t.request.unwrap_err().0.contains("method"));
    let mut event: Value = serde_json::from_slice(&fixture("alb_request.json")).unwrap();
    event["headers"]["bad header"] = json!("x");
    let t = translate(event.to_string().as_bytes(), ctx()).unwrap();
    assert!(t.request.unwrap_err().0.contains("bad header"));
    let mut event: Value = serde_json::from_slice(&fixture("apigw_v2_proxy_request.json")).unwrap();
    event["requestContext"]["http"] = json!(null);
    let t = translate(event.to_string().as_bytes(), ctx()).unwrap();
    assert!(t.request.unwrap_err().0.contains("method"));
}

#[test]
fn a_host_header_cannot_move_into_the_path_or_query() {
    for host in [
        "evil.example/admin",
        "a.example?x=1",
        "user@a.example",
        "a b",
        "a.example#x",
    ] {
        let mut event: Value = serde_json::from_slice(&fixture("alb_request.json")).unwrap();
        event["headers"]["host"] = json!(host);
        let t = translate(event.to_string().as_bytes(), ctx()).unwrap();
        let refused = t.request.unwrap_err();
        assert!(refused.0.contains("Host"), "{host}: {refused:?}");
    }
    let mut event: Value = serde_json::from_slice(&fixture("alb_request.json")).unwrap();
    event["headers"]["host"] = json!("[::1]:8080");
    let r = translate(event.to_string().as_bytes(), ctx())
        .unwrap()
        .request
        .unwrap();
    assert_eq!(r.uri(), "https://[::1]:8080/?myKey=val2");
}

#[test]
fn a_path_without_a_slash_does_not_join_the_host() {
    // Found by the http_event fuzz target: `"path": "2"` made `https://host2/`.
    for name in [
        "alb_request.json",
        "apigw_proxy_request.json",
        "apigw_v2_proxy_request.json",
    ] {
        let mut event: Value = serde_json::from_slice(&fixture(name)).unwrap();
        let key = if event.get("rawPath").is_some() {
            "rawPath"
        } else {
            "path"
        };
        event[key] = json!("2");
        let r = translate(event.to_string().as_bytes(), ctx())
            .unwrap()
            .request
            .unwrap();
        assert!(r.uri().path().ends_with("/2"), "{name}: {}", r.uri());
        assert!(
            !r.uri().host().unwrap().ends_with('2'),
            "{name}: {}",
            r.uri()
        );
    }
}

#[test]
fn the_lambda_trace_id_replaces_the_callers() {
    let mut ctx = ctx();
    ctx.xray_trace_id = Some("Root=1-5-6;Parent=7;Sampled=1".into());
    let t = translate(&fixture("alb_request.json"), ctx).unwrap();
    let r = t.request.unwrap();
    assert_eq!(
        header(&r, "x-amzn-trace-id"),
        ["Root=1-5-6;Parent=7;Sampled=1"]
    );
}

/// A response head with these headers.
fn head(status: u16, headers: &[(&'static str, &'static str)]) -> http::response::Parts {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap().into_parts().0
}

fn answer(shape: Shape, head: &http::response::Parts, body: &[u8]) -> Value {
    serde_json::from_slice(&shape.response(head, body)).unwrap()
}

const REPEATED: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    ("set-cookie", "a=1; Path=/"),
    ("set-cookie", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"),
    ("vary", "Origin"),
    ("vary", "Accept-Encoding"),
];

#[test]
fn rest_api_response_has_every_value_in_multi_value_headers_only() {
    let a = answer(Shape::ApiGatewayV1, &head(201, REPEATED), br#"{"id":7}"#);
    assert_eq!(
        a,
        json!({
            "statusCode": 201,
            "multiValueHeaders": {
                "content-type": ["application/json"],
                "set-cookie": ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"],
                "vary": ["Origin", "Accept-Encoding"],
            },
            "body": "{\"id\":7}",
            "isBase64Encoded": false,
        })
    );
}

#[test]
fn http_api_response_moves_set_cookie_to_cookies_and_joins_the_rest() {
    for shape in [Shape::ApiGatewayV2, Shape::FunctionUrl] {
        let a = answer(shape, &head(200, REPEATED), br#"{"id":7}"#);
        assert_eq!(
            a,
            json!({
                "statusCode": 200,
                "headers": {"content-type": "application/json", "vary": "Origin, Accept-Encoding"},
                "cookies": ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"],
                "body": "{\"id\":7}",
                "isBase64Encoded": false,
            })
        );
    }
}

#[test]
fn alb_response_has_a_status_description_and_the_events_header_mode() {
    let a = answer(Shape::Alb { multi_value: true }, &head(404, REPEATED), b"");
    assert_eq!(a["statusDescription"], "404 Not Found");
    assert_eq!(
        a["multiValueHeaders"]["vary"],
        json!(["Origin", "Accept-Encoding"])
    );
    assert_eq!(
        a["multiValueHeaders"]["set-cookie"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(a.get("headers").is_none());
    let a = answer(Shape::Alb { multi_value: false }, &head(200, REPEATED), b"");
    assert_eq!(a["statusDescription"], "200 OK");
    assert_eq!(a["headers"]["vary"], "Origin, Accept-Encoding");
    // One Set-Cookie fits; joining cookies would corrupt them.
    assert_eq!(a["headers"]["set-cookie"], "a=1; Path=/");
    assert!(a.get("multiValueHeaders").is_none());
    assert_eq!(a["body"], "");
}

#[test]
fn binary_and_encoded_bodies_go_as_base64_text_as_text() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
    let gzip = b"\x1f\x8b\x08\0\0\0\0\0\0\x03\xab\x56\x4a";
    let latin1 = b"caf\xe9";
    for (headers, body, text) in [
        (&[("content-type", "image/png")][..], &png[..], false),
        (
            &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            gzip,
            false,
        ),
        (
            &[("content-type", "text/plain; charset=iso-8859-1")],
            latin1,
            false,
        ),
        (
            &[("content-type", "application/json")],
            br#"{"a":"\u00e9"}"#,
            true,
        ),
        (
            &[("content-type", "application/problem+json")],
            br#"{"title":"x"}"#,
            true,
        ),
        (
            &[("content-type", "text/html; charset=utf-8")],
            "<p>caf\u{e9}</p>".as_bytes(),
            true,
        ),
    ] {
        let mut builder = http::Response::builder();
        for (n, v) in headers {
            builder = builder.header(*n, *v);
        }
        let head = builder.body(()).unwrap().into_parts().0;
        for shape in [
            Shape::ApiGatewayV1,
            Shape::ApiGatewayV2,
            Shape::Alb { multi_value: false },
        ] {
            let a = answer(shape, &head, body);
            assert_eq!(a["isBase64Encoded"], !text, "{headers:?}");
            let sent = if text {
                a["body"].as_str().unwrap().as_bytes().to_vec()
            } else {
                crate::base64::decode(a["body"].as_str().unwrap().as_bytes()).unwrap()
            };
            assert_eq!(sent, body, "{headers:?}");
        }
    }
}

#[test]
fn the_streaming_prelude_is_json_then_eight_nuls() {
    let prelude = function_url::prelude(&head(200, REPEATED));
    let (json_part, end) = prelude.split_at(prelude.len() - 8);
    assert_eq!(end, [0u8; 8]);
    let a: Value = serde_json::from_slice(json_part).unwrap();
    assert_eq!(
        a,
        json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json", "vary": "Origin, Accept-Encoding"},
            "cookies": ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"],
        })
    );
    let a: Value = serde_json::from_slice(
        function_url::prelude(&head(404, &[]))
            .strip_suffix(&[0u8; 8][..])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        a,
        json!({"statusCode": 404, "headers": {"content-type": "application/octet-stream"}, "cookies": []})
    );
}

#[test]
fn json_strings_escape_what_json_requires() {
    let mut out = String::new();
    push_json_string(&mut out, "a\"b\\c\nd\u{1}e\u{e9}");
    assert_eq!(
        serde_json::from_str::<String>(&out).unwrap(),
        "a\"b\\c\nd\u{1}e\u{e9}"
    );
}

#[test]
fn a_plain_http_request_wrapped_as_an_http_api_event_comes_back_the_same() {
    let request = http::Request::builder()
        .method("PUT")
        .uri("http://localhost:9000/pets/7?tag=a&tag=b%20c")
        .header("host", "localhost:9000")
        .header("cookie", "a=1; b=2")
        .header("accept", "image/png")
        .header("accept", "*/*")
        .header("content-type", "image/png")
        .body(())
        .unwrap();
    let (head, ()) = request.into_parts();
    let png = b"\x89PNG\r\n\x1a\n\0\xff";
    let event = apigw_v2::emulated::event(&head, png, "localhost", "req-9");
    let json: Value = serde_json::from_slice(&event).unwrap();
    assert_eq!(json["cookies"], json!(["a=1", "b=2"]));
    assert_eq!(json["headers"]["accept"], "image/png,*/*");
    assert_eq!(json["queryStringParameters"], json!({"tag": "a,b c"}));
    assert_eq!(json["isBase64Encoded"], true);
    let (r, shape) = {
        let t = translate(&event, ctx()).unwrap();
        (t.request.unwrap(), t.shape)
    };
    assert_eq!(shape, Shape::ApiGatewayV2);
    assert_eq!(r.method(), "PUT");
    assert_eq!(r.uri(), "http://localhost:9000/pets/7?tag=a&tag=b%20c");
    assert_eq!(header(&r, "cookie"), ["a=1; b=2"]);
    assert_eq!(r.body().as_bytes(), png);
    // The answer read back as HTTP; and a bare JSON answer is a 200 JSON body.
    let answer = Shape::ApiGatewayV2.response(&head_with(201, REPEATED), b"{}");
    let response = apigw_v2::emulated::response(&answer).unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["vary"], "Origin, Accept-Encoding");
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies.len(), 2);
    let bare = apigw_v2::emulated::response(br#"{"hello":"world"}"#).unwrap();
    assert_eq!(
        (bare.status().as_u16(), &bare.body()[..]),
        (200, &br#"{"hello":"world"}"#[..])
    );
    assert!(apigw_v2::emulated::response(br#"{"statusCode":99999}"#).is_err());
}

fn head_with(status: u16, headers: &[(&'static str, &'static str)]) -> http::response::Parts {
    head(status, headers)
}

#[test]
fn request_context_keys_are_read_as_a_value_would_read_them_and_the_whole_object_kept() {
    let raw: RawEvent = serde_json::from_str(
        r#"{"requestContext":{"elb":null,"domainName":7,"stage":"a","stage":"b",
            "http":{"method":["GET"]},"deep":{"x":[1,{"y":"z"}]},"path":"/p"}}"#,
    )
    .unwrap();
    let context = raw.request_context.as_ref().unwrap();
    // A key with null is there (`Value::get` is `Some`); no string reads as absent; the last
    // of a repeated key counts.
    assert!(context.elb);
    assert_eq!(raw.context_str("domainName"), None);
    assert_eq!(raw.context_str("stage"), Some("b"));
    assert_eq!(raw.context_str("path"), Some("/p"));
    assert_eq!(context.http_method, None);
    // A requestContext that is no object is skipped whole, not an error.
    for other in [r#""text""#, "[1,{\"elb\":1}]", "3", "true"] {
        let raw: RawEvent = serde_json::from_str(&format!(
            r#"{{"requestContext":{other},"httpMethod":"GET"}}"#
        ))
        .unwrap();
        let context = raw.request_context.unwrap();
        assert!(!context.elb && context.domain_name.is_none(), "{other}");
    }
    // The extension's JSON is the whole object, parsed when asked for.
    let event = br#"{"version":"2.0","requestContext":{"a":[1,2.5],"b":{"c":null},"http":{"method":"PUT"}}}"#;
    let lazy = RequestContext::lazy(EventSource::FunctionUrl, event);
    assert_eq!(
        lazy.json(),
        &json!({"a": [1, 2.5], "b": {"c": null}, "http": {"method": "PUT"}})
    );
    assert_eq!(lazy.get("b"), Some(&json!({"c": null})));
    assert_eq!(
        RequestContext::lazy(EventSource::Alb, b"{}").json(),
        &Value::Null
    );
}
