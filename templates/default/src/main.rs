//! my-function: `{"name": "Ada"}` → `{"message": "Hello, Ada!"}`. Replace the handler with yours.

use faas_runtime::{Context, Error};
use serde::{Deserialize, Serialize};

#[global_allocator]
static ALLOC: faas_runtime::Jemalloc = faas_runtime::Jemalloc;

#[derive(Deserialize)]
struct Request {
    name: String,
}

#[derive(Serialize)]
struct Response {
    message: String,
}

async fn handler(request: Request, _ctx: Context) -> Result<Response, Error> {
    if request.name.is_empty() {
        return Err(Error::new("EmptyName", "name must not be empty"));
    }
    Ok(Response {
        message: format!("Hello, {}!", request.name),
    })
}

fn main() {
    faas_runtime::run(handler)
}
