//! my-function: an axum app behind a function URL, API Gateway or an ALB, and the same binary
//! serving plain HTTP on `$PORT` outside Lambda. `GET /hello/{name}` → `{"message": "Hello,
//! Ada!"}`, an empty name is a `400`. Replace the routes with yours.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

#[global_allocator]
static ALLOC: faas_runtime::Jemalloc = faas_runtime::Jemalloc;

#[derive(Serialize)]
struct Greeting {
    message: String,
}

async fn hello(Path(name): Path<String>) -> Result<Json<Greeting>, (StatusCode, &'static str)> {
    if name.trim().is_empty() {
        return Err((StatusCode::BAD_REQUEST, "name must not be empty"));
    }
    Ok(Json(Greeting {
        message: format!("Hello, {name}!"),
    }))
}

fn app() -> Router {
    Router::new().route("/hello/{name}", get(hello))
}

fn main() {
    faas_runtime::run_http(app())
}
