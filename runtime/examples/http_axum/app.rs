//! The app of the `http_axum` example (and of its `lambda_http` peer): routes, handlers and
//! nothing Lambda-specific but the request extensions `/whoami` reads.

use std::time::Duration;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::sse::{Event, Sse};
use axum::response::{AppendHeaders, IntoResponse};
use axum::routing::get;
use axum::{Extension, Json, Router};
use faas_runtime::Context;
use faas_runtime::http::RequestContext;
use serde::Deserialize;
use serde_json::{Value, json};

/// A 1x1 PNG.
const LOGO: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\xdac\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";

pub fn app() -> Router {
    Router::new()
        .route("/hello", get(|| async { "Hello from axum on Lambda\n" }))
        .route("/pets", axum::routing::post(add_pet))
        .route("/pets/{id}", get(pet))
        .route(
            "/logo.png",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], LOGO) }),
        )
        .route("/whoami", get(whoami))
        .route("/events", get(events))
}

async fn pet(Path(id): Path<u32>) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    match id {
        1 => Ok(Json(json!({"id": 1, "name": "Rex", "kind": "dog"}))),
        _ => Err((
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no pet {id}")})),
        )),
    }
}

#[derive(Deserialize)]
struct NewPet {
    name: String,
    kind: String,
}

async fn add_pet(Json(new): Json<NewPet>) -> impl IntoResponse {
    (
        StatusCode::CREATED,
        AppendHeaders([
            (
                header::SET_COOKIE,
                format!("last_pet={}; Path=/; HttpOnly", new.name),
            ),
            (header::SET_COOKIE, "visited=1; Path=/".to_owned()),
        ]),
        Json(json!({"id": 2, "name": new.name, "kind": new.kind})),
    )
}

/// What the service sees of the request: the same on every event source.
async fn whoami(
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Extension(source): Extension<RequestContext>,
    Extension(ctx): Extension<Context>,
) -> Json<Value> {
    let all = |name: header::HeaderName| -> Vec<String> {
        let values = headers.get_all(name).iter();
        values
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    };
    Json(json!({
        "method": method.as_str(),
        "uri": uri.to_string(),
        "path": uri.path(),
        "query": uri.query(),
        "cookie": all(header::COOKIE),
        "accept": all(header::ACCEPT),
        "source": format!("{:?}", source.source()),
        "request_id": ctx.request_id,
    }))
}

#[derive(Deserialize)]
struct Pace {
    gap_ms: Option<u64>,
    count: Option<u32>,
}

/// Server-sent events, `count` (default 3) of them, `gap_ms` (default 300) apart.
async fn events(Query(pace): Query<Pace>) -> impl IntoResponse {
    let gap = Duration::from_millis(pace.gap_ms.unwrap_or(300));
    let count = pace.count.unwrap_or(3);
    let stream = futures_util::stream::unfold(0, move |i| async move {
        if i == count {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(gap).await;
        }
        let event = Event::default().event("tick").data(format!("{i}"));
        Some((Ok::<_, std::convert::Infallible>(event), i + 1))
    });
    Sse::new(stream)
}
