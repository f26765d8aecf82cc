//! `bootstrap`: the demo function, a typed JSON hello.
//!
//! `{"name": "Ada"}` → `{"message": "Hello, Ada!"}`; an empty name is a handler error
//! (`EmptyName`); anything else that is not `{"name": string}` is the runtime's
//! `Runtime.UnmarshalError`. Copy this file to start a function of your own.

use faas_runtime::{Context, Error};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Greeting {
    name: String,
}

#[derive(Serialize)]
struct Reply {
    message: String,
}

fn main() {
    faas_runtime::run(|greeting: Greeting, _ctx: Context| async move {
        if greeting.name.is_empty() {
            return Err(Error::new("EmptyName", "name must not be empty"));
        }
        Ok(Reply {
            message: format!("Hello, {}!", greeting.name),
        })
    })
}
