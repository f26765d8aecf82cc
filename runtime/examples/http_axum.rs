//! An axum app as a Lambda function behind API Gateway, an ALB or a function URL: the app is
//! written as for any server, and `main` hands the `Router` to `faas_runtime::run_http` as it is.
//!
//! Routes: `GET /hello` (text), `GET /pets/{id}` (JSON out, `404` for an unknown pet),
//! `POST /pets` (JSON in and out, `201`, sets a cookie), `GET /logo.png` (a binary body),
//! `GET /whoami` (what the service saw: method, URI, cookies, the event's source and the
//! request id), and `GET /events` (server-sent events, one every `?gap_ms=` milliseconds).
//! With `HTTP_STREAMING=1` the function streams its responses (a function URL with
//! `RESPONSE_STREAM`), so the events reach the client as they are written.
//!
//! Outside Lambda (no `AWS_LAMBDA_RUNTIME_API`) the same binary serves plain HTTP:
//! `PORT=8080 cargo run --example http_axum --features http`, then `curl localhost:8080/hello`.

#[path = "http_axum/app.rs"]
mod app;

fn main() {
    if std::env::var_os("HTTP_STREAMING").is_some_and(|v| v == "1") {
        faas_runtime::run_http_streaming(app::app())
    } else {
        faas_runtime::run_http(app::app())
    }
}
