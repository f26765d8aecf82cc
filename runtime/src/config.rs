//! The function's settings, read once from the environment at start.
//!
//! Lambda passes everything through environment variables; reading and validating them before
//! the first event means a bad setting is reported as an init error, not as a failed invocation.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::Error;
pub(crate) use crate::context::FunctionSettings;
use crate::endpoint::Endpoint;
use crate::log::{Format, Level};
use crate::protocol::error_type;

/// Where local mode listens when neither `FAAS_LISTEN` nor `--listen` says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Everything the runtime reads from its environment and command line.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// `AWS_LAMBDA_RUNTIME_API`; `None` (unset or empty) selects local mode.
    pub runtime_api: Option<Endpoint>,
    /// Local mode's invoke endpoint address (`FAAS_LISTEN` or `--listen`).
    pub listen: SocketAddr,
    pub function: Arc<FunctionSettings>,
    pub log_format: Format,
    pub log_level: Level,
}

impl Config {
    /// Reads the process environment and arguments.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|key| std::env::var(key).ok(), std::env::args().skip(1))
    }

    fn from_lookup(
        var: impl Fn(&str) -> Option<String>,
        args: impl Iterator<Item = String>,
    ) -> Result<Self, Error> {
        let defaults = FunctionSettings::default();
        let function_name = var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or(defaults.function_name);
        let memory_size_mb = match var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") {
            None => defaults.memory_size_mb,
            Some(v) => v.trim().parse().map_err(|_| {
                config_error(format!(
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE must be a whole number of MB, got {v:?}"
                ))
            })?,
        };
        let log_format = match var("AWS_LAMBDA_LOG_FORMAT") {
            None => Format::Text,
            Some(v) => Format::parse(&v).ok_or_else(|| {
                config_error(format!(
                    "AWS_LAMBDA_LOG_FORMAT must be Text or JSON, got {v:?}"
                ))
            })?,
        };
        let log_level = match var("AWS_LAMBDA_LOG_LEVEL").or_else(|| var("RUST_LOG")) {
            None => Level::INFO,
            Some(v) => Level::parse(&v).ok_or_else(|| {
                config_error(format!(
                    "AWS_LAMBDA_LOG_LEVEL (or RUST_LOG) must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, got {v:?}"
                ))
            })?,
        };
        let listen_text = listen_flag(args)?
            .or_else(|| var("FAAS_LISTEN"))
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen_text.parse().map_err(|_| {
            config_error(format!(
                "the local-mode listen address (FAAS_LISTEN or --listen) must be IP:PORT, got {listen_text:?}"
            ))
        })?;
        let runtime_api = runtime_api(&var)?;
        Ok(Self {
            runtime_api,
            listen,
            function: Arc::new(FunctionSettings {
                log_group_name: var("AWS_LAMBDA_LOG_GROUP_NAME")
                    .unwrap_or_else(|| format!("/aws/lambda/{function_name}")),
                log_stream_name: var("AWS_LAMBDA_LOG_STREAM_NAME")
                    .unwrap_or(defaults.log_stream_name),
                version: var("AWS_LAMBDA_FUNCTION_VERSION").unwrap_or(defaults.version),
                function_name,
                memory_size_mb,
            }),
            log_format,
            log_level,
        })
    }
}

/// `--listen ADDR` or `--listen=ADDR`; other arguments belong to the function and are left alone.
fn listen_flag(mut args: impl Iterator<Item = String>) -> Result<Option<String>, Error> {
    let mut found = None;
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix("--listen=") {
            found = Some(value.to_owned());
        } else if arg == "--listen" {
            found = Some(args.next().ok_or_else(|| {
                config_error("--listen needs an address, e.g. --listen 0.0.0.0:8080".into())
            })?);
        }
    }
    Ok(found)
}

/// `AWS_LAMBDA_RUNTIME_API`, parsed; unset or empty is local mode.
pub(crate) fn runtime_api(var: impl Fn(&str) -> Option<String>) -> Result<Option<Endpoint>, Error> {
    match var("AWS_LAMBDA_RUNTIME_API").filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => Endpoint::parse(&v).map(Some).map_err(config_error),
    }
}

fn config_error(message: String) -> Error {
    Error::new(error_type::CONFIG, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)], args: &[&str]) -> Result<Config, Error> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(
            |key| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()),
            args.iter().map(|a| a.to_string()),
        )
    }

    #[test]
    fn defaults_select_local_mode_on_loopback() {
        let c = config(&[], &[]).unwrap();
        assert!(c.runtime_api.is_none());
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.log_format, Format::Text);
        assert_eq!(c.function.log_group_name, "/aws/lambda/function");
    }

    #[test]
    fn flag_wins_over_env() {
        let c = config(
            &[("FAAS_LISTEN", "0.0.0.0:8080")],
            &["--listen", "127.0.0.1:9"],
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9");
        let c = config(&[("FAAS_LISTEN", "0.0.0.0:8080")], &[]).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:8080");
    }

    #[test]
    fn bad_settings_are_config_errors_that_name_the_variable() {
        for (key, value) in [
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots"),
            ("AWS_LAMBDA_LOG_FORMAT", "xml"),
            ("AWS_LAMBDA_LOG_LEVEL", "loud"),
            ("FAAS_LISTEN", "nowhere"),
            ("AWS_LAMBDA_RUNTIME_API", "https://127.0.0.1:9001"),
        ] {
            let e = config(&[(key, value)], &[]).unwrap_err();
            assert_eq!(e.error_type(), error_type::CONFIG);
            assert!(e.message().contains(key), "{e}");
        }
    }
}
