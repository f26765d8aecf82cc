//! `bootstrap`: the demo function, a typed JSON hello.
//!
//! `{"name": "Ada"}` → `{"message": "Hello, Ada!"}`; an empty name is a handler error
//! (`EmptyName`); anything else that is not `{"name": string}` is the runtime's
//! `Runtime.UnmarshalError`. Copy this file to start a function of your own.

use faas_runtime::{Context, Error};
use serde::{Deserialize, Serialize};

// The allocator is the binary's choice; jemalloc is the documented default for bootstraps.
#[global_allocator]
static ALLOC: faas_runtime::Jemalloc = faas_runtime::Jemalloc;

#[derive(Deserialize)]
struct Greeting {
    name: String,
}

#[derive(Serialize)]
struct Reply {
    message: String,
}

async fn handler(greeting: Greeting, _ctx: Context) -> Result<Reply, Error> {
    if greeting.name.is_empty() {
        return Err(Error::new("EmptyName", "name must not be empty"));
    }
    Ok(Reply {
        message: format!("Hello, {}!", greeting.name),
    })
}

fn main() {
    faas_runtime::run(handler)
}
