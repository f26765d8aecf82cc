//! A small `tracing` subscriber: one line per event, plain text or JSON, each carrying the
//! request id of the invocation in flight.
//!
//! It replaces tracing-subscriber, which would cost more than 100 KB of a 1 MB binary for
//! features a function does not use (span trees, filters per module, ANSI colours).

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, LevelFilter, Metadata, Subscriber};

use crate::context;

/// `AWS_LAMBDA_LOG_FORMAT`: `Text` (the default) or `JSON`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "text" => Some(Self::Text),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// The most verbose level logged: `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `INFO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level(LevelFilter);

impl Level {
    pub const INFO: Self = Self(LevelFilter::INFO);

    /// Accepts Lambda's level names (`FATAL` counts as `ERROR`) and `RUST_LOG` directives, of
    /// which the most verbose level wins: `warn,my_fn=debug` logs at `DEBUG`.
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let levels = value
            .split(',')
            .filter(|d| !d.trim().is_empty())
            .map(|directive| {
                let level = directive.rsplit('=').next().unwrap_or(directive);
                match level.trim().to_ascii_lowercase().as_str() {
                    "trace" => Some(LevelFilter::TRACE),
                    "debug" => Some(LevelFilter::DEBUG),
                    "info" => Some(LevelFilter::INFO),
                    "warn" => Some(LevelFilter::WARN),
                    "error" | "fatal" => Some(LevelFilter::ERROR),
                    "off" => Some(LevelFilter::OFF),
                    _ => None,
                }
            });
        let mut max: Option<LevelFilter> = None;
        for level in levels {
            let level = level?;
            max = Some(max.map_or(level, |m| m.max(level)));
        }
        max.map(Self)
    }
}

/// Installs the logger as the global `tracing` subscriber (once; later calls are ignored).
pub(crate) fn init(format: Format, level: Level) {
    let _ = tracing::subscriber::set_global_default(Logger {
        format,
        max: level.0,
    });
}

struct Logger {
    format: Format,
    max: LevelFilter,
}

impl Subscriber for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max)
    }

    // Spans are not tracked: the request id, the only context a line needs, comes from the
    // invocation in flight.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = format_line(
            self.format,
            &timestamp(SystemTime::now()),
            event.metadata().level().as_str(),
            context::current().as_deref(),
            &fields,
        );
        // A log line that cannot be written has nowhere else to go.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// An event's message and its other fields, in order.
#[derive(Default)]
struct Fields {
    message: String,
    rest: Vec<(&'static str, Value)>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.rest
                .push((field.name(), Value::String(format!("{value:?}"))));
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.rest.push((field.name(), value.into()));
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.rest.push((field.name(), value.into()));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.rest.push((field.name(), value.into()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.rest.push((field.name(), value.into()));
    }
}

fn format_line(
    format: Format,
    timestamp: &str,
    level: &str,
    request_id: Option<&str>,
    fields: &Fields,
) -> String {
    match format {
        Format::Text => {
            let mut line = format!(
                "{timestamp}\t{}\t{level}\t{}",
                request_id.unwrap_or("-"),
                fields.message
            );
            for (name, value) in &fields.rest {
                match value {
                    Value::String(s) => {
                        let _ = write!(line, " {name}={s}");
                    }
                    other => {
                        let _ = write!(line, " {name}={other}");
                    }
                }
            }
            line.push('\n');
            line
        }
        Format::Json => {
            let mut object = Map::new();
            object.insert("timestamp".into(), timestamp.into());
            object.insert("level".into(), level.into());
            if let Some(id) = request_id {
                object.insert("requestId".into(), id.into());
            }
            object.insert("message".into(), fields.message.as_str().into());
            for (name, value) in &fields.rest {
                object.insert((*name).into(), value.clone());
            }
            let mut line = Value::Object(object).to_string();
            line.push('\n');
            line
        }
    }
}

/// RFC 3339 in UTC with milliseconds, as Lambda's own log lines.
pub(crate) fn timestamp(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_796_932_498_123);
        assert_eq!(timestamp(t), "2026-12-10T19:54:58.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&timestamp(leap)[..10], "2000-02-29");
    }

    #[test]
    fn levels_parse_lambda_names_and_rust_log() {
        assert_eq!(Level::parse("FATAL"), Some(Level(LevelFilter::ERROR)));
        assert_eq!(
            Level::parse("warn,my_fn=debug"),
            Some(Level(LevelFilter::DEBUG))
        );
        assert_eq!(Level::parse("loud"), None);
        assert_eq!(Level::parse(""), None);
    }

    #[test]
    fn lines_carry_the_request_id() {
        let fields = Fields {
            message: "hi \"there\"".into(),
            rest: vec![("n", 3.into())],
        };
        let text = format_line(Format::Text, "T", "INFO", Some("r-1"), &fields);
        assert_eq!(text, "T\tr-1\tINFO\thi \"there\" n=3\n");
        let json: Value = serde_json::from_str(&format_line(
            Format::Json,
            "T",
            "WARN",
            Some("r-1"),
            &fields,
        ))
        .unwrap();
        assert_eq!(json["requestId"], "r-1");
        assert_eq!(json["message"], "hi \"there\"");
        assert_eq!(json["level"], "WARN");
        assert_eq!(json["n"], 3);
    }
}
