//! AWS's own extension client (crate `lambda-extension`) as an external extension under our
//! emulator: conformance of the Extensions and Telemetry APIs with the client AWS ships.
//! Registers for INVOKE and SHUTDOWN, subscribes to telemetry (platform and function records)
//! on `TELEMETRY_PORT` (default 9003, the crate's), and appends one line per event or record
//! to the file `EXTENSION_LOG` names.

use std::io::Write;

use lambda_extension::{
    Error, Extension, LambdaEvent, LambdaTelemetry, LambdaTelemetryRecord, NextEvent,
    SharedService, service_fn,
};

fn append(line: &str) {
    let Ok(path) = std::env::var("EXTENSION_LOG") else {
        return;
    };
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path);
    if let Ok(mut file) = file {
        let _ = writeln!(file, "{line}");
    }
}

async fn events(event: LambdaEvent) -> Result<(), Error> {
    match event.next {
        NextEvent::Invoke(e) => append(&format!("INVOKE {}", e.request_id)),
        NextEvent::Shutdown(e) => append(&format!("SHUTDOWN {}", e.shutdown_reason)),
    }
    Ok(())
}

async fn telemetry(records: Vec<LambdaTelemetry>) -> Result<(), Error> {
    for record in records {
        let line = match record.record {
            LambdaTelemetryRecord::PlatformStart { request_id, .. } => {
                format!("platform.start {request_id}")
            }
            LambdaTelemetryRecord::PlatformRuntimeDone {
                request_id, status, ..
            } => format!("platform.runtimeDone {request_id} {status:?}"),
            LambdaTelemetryRecord::PlatformReport { request_id, .. } => {
                format!("platform.report {request_id}")
            }
            LambdaTelemetryRecord::Function(line) => format!("function {}", line.trim_end()),
            _ => continue,
        };
        append(&line);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let port = std::env::var("TELEMETRY_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(9003);
    Extension::new()
        .with_events_processor(service_fn(events))
        .with_telemetry_processor(SharedService::new(service_fn(telemetry)))
        .with_telemetry_port_number(port)
        .run()
        .await
}
