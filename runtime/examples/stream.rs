//! Streams an answer token by token, as a chat model would: `{"prompt": "a b c"}` sends `a `,
//! `b `, `c ` with `delay_ms` (default 100) between them. `fail_after: n` fails the stream
//! after n tokens, `panic_after: n` panics there (both to show how a broken stream ends);
//! `content_type` sets the stream's (`text/event-stream` for server-sent events, say).

use std::time::Duration;

use faas_runtime::{Context, Error, ResponseStream};
use serde::Deserialize;

#[derive(Deserialize)]
struct Prompt {
    prompt: String,
    delay_ms: Option<u64>,
    fail_after: Option<usize>,
    panic_after: Option<usize>,
    content_type: Option<String>,
}

async fn handler(p: Prompt, _ctx: Context, mut out: ResponseStream) -> Result<(), Error> {
    let delay = Duration::from_millis(p.delay_ms.unwrap_or(100));
    if let Some(content_type) = &p.content_type {
        out.set_content_type(content_type).await?;
    }
    for (i, token) in p.prompt.split_whitespace().enumerate() {
        if i > 0 {
            tokio::time::sleep(delay).await;
        }
        if p.fail_after == Some(i) {
            let message = format!("stopped after {i} tokens");
            return Err(Error::new("TokenLimit", message));
        }
        if p.panic_after == Some(i) {
            panic!("the stream example panicked after {i} tokens");
        }
        out.send(format!("{token} ")).await?;
    }
    Ok(())
}

fn main() {
    faas_runtime::run_streaming(handler)
}
