//! An external Lambda extension, for tests and as a template: registers under its file's name
//! for `INVOKE` and `SHUTDOWN`, then appends one line per event to the file `EXTENSION_LOG`
//! names (`registered`, `INVOKE <requestId>`, `SHUTDOWN <reason>`) and exits after SHUTDOWN.
//! Put it (or a link to it) in `/opt/extensions` or `faas-emulator --extensions-dir DIR`.
//!
//! With `TELEMETRY_LOG` set it also subscribes to the Telemetry API (the types in
//! `TELEMETRY_TYPES`, default `platform,function`; batches every 25 ms) with a listener on
//! `sandbox.localdomain`, logs `subscribed` (or the refusal), and appends every record it
//! receives to `TELEMETRY_LOG` as one line of JSON.
//!
//! It speaks the Extensions and Telemetry APIs with std alone (one request per connection),
//! so it is small and static like `bootstrap`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

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
    if let Some(path) = std::env::var_os("TELEMETRY_LOG") {
        subscribe(&api, &id, path.into());
    }
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

/// Listens on a free loopback port, subscribes it to the Telemetry API and appends every
/// record posted to it to `path`.
fn subscribe(api: &str, id: &str, path: std::path::PathBuf) {
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(listener) => listener,
        Err(e) => return log(&format!("cannot listen for telemetry: {e}")),
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        for connection in listener.incoming().flatten() {
            receive(connection, &path);
        }
    });
    let types = std::env::var("TELEMETRY_TYPES").unwrap_or_else(|_| "platform,function".into());
    let types: Vec<&str> = types.split(',').collect();
    let body = serde_json::json!({
        "schemaVersion": "2022-12-13",
        "types": types,
        "buffering": {"maxItems": 1000, "maxBytes": 262_144, "timeoutMs": 25},
        "destination": {"protocol": "HTTP", "URI": format!("http://sandbox.localdomain:{port}/")},
    });
    match request(
        api,
        "PUT",
        "/2022-07-01/telemetry",
        &[
            ("Lambda-Extension-Identifier", id),
            ("Content-Type", "application/json"),
        ],
        &body.to_string(),
    ) {
        Ok((200, _, _)) => log("subscribed"),
        Ok((status, _, body)) => log(&format!("subscribe refused: {status} {body}")),
        Err(e) => log(&format!("subscribe failed: {e}")),
    }
}

/// One telemetry batch (a JSON array): each record appended to `path`, then `200`.
fn receive(connection: TcpStream, path: &std::path::Path) {
    let mut reader = BufReader::new(connection);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let records: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap_or_default();
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        for record in &records {
            let _ = writeln!(file, "{record}");
        }
    }
    let _ = reader
        .get_mut()
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}
