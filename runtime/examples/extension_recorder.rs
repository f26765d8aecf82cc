//! An external Lambda extension, for tests and as a template: registers under its file's name
//! for `INVOKE` and `SHUTDOWN`, then appends one line per event to the file `EXTENSION_LOG`
//! names (`registered`, `INVOKE <requestId>`, `SHUTDOWN <reason>`) and exits after SHUTDOWN.
//! Put it (or a link to it) in `/opt/extensions` or `faas-emulator --extensions-dir DIR`.
//!
//! It speaks the Extensions API with std alone (one request per connection), so it is small
//! and static like `bootstrap`.

use std::io::{Read, Write};
use std::net::TcpStream;

/// An answer: the status, the headers (lower-cased names) and the body.
type Answer = (u16, Vec<(String, String)>, String);

/// One HTTP/1.1 request.
fn request(
    api: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(api)?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(head.as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers, body.to_owned()))
}

fn log(line: &str) {
    eprintln!("extension_recorder: {line}");
    if let Some(path) = std::env::var_os("EXTENSION_LOG") {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "{line}");
        }
    }
}

fn main() -> std::process::ExitCode {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        eprintln!("extension_recorder: AWS_LAMBDA_RUNTIME_API is unset");
        return std::process::ExitCode::FAILURE;
    };
    let name = std::env::args()
        .next()
        .and_then(|a| a.rsplit('/').next().map(str::to_owned))
        .unwrap_or_else(|| "extension_recorder".into());
    let registered = request(
        &api,
        "POST",
        "/2020-01-01/extension/register",
        &[("Lambda-Extension-Name", &name)],
        r#"{"events":["INVOKE","SHUTDOWN"]}"#,
    );
    let id = match registered {
        Ok((200, headers, _)) => headers
            .into_iter()
            .find(|(n, _)| n == "lambda-extension-identifier")
            .map(|(_, v)| v),
        Ok((status, _, body)) => {
            log(&format!("register refused: {status} {body}"));
            None
        }
        Err(e) => {
            log(&format!("register failed: {e}"));
            None
        }
    };
    let Some(id) = id else {
        return std::process::ExitCode::FAILURE;
    };
    log("registered");
    loop {
        let event = match request(
            &api,
            "GET",
            "/2020-01-01/extension/event/next",
            &[("Lambda-Extension-Identifier", &id)],
            "",
        ) {
            Ok((200, _, body)) => body,
            Ok((status, _, body)) => {
                log(&format!("next refused: {status} {body}"));
                return std::process::ExitCode::FAILURE;
            }
            Err(e) => {
                log(&format!("next failed: {e}"));
                return std::process::ExitCode::FAILURE;
            }
        };
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&event) else {
            log(&format!("not an event: {event}"));
            return std::process::ExitCode::FAILURE;
        };
        match event["eventType"].as_str() {
            Some("INVOKE") => log(&format!(
                "INVOKE {}",
                event["requestId"].as_str().unwrap_or("?")
            )),
            Some("SHUTDOWN") => {
                log(&format!(
                    "SHUTDOWN {}",
                    event["shutdownReason"].as_str().unwrap_or("?")
                ));
                return std::process::ExitCode::SUCCESS;
            }
            other => log(&format!("unknown event {other:?}")),
        }
    }
}
