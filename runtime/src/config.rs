//! The function's settings, read once from the environment at start.
//!
//! Lambda passes everything through environment variables; reading and validating them before
//! the first event means a bad setting is reported as an init error, not as a failed invocation.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::Error;
use crate::cli::{self, Command};
pub(crate) use crate::context::FunctionSettings;
use crate::endpoint::Endpoint;
use crate::log::{Format, Level};
use crate::protocol::{env, error_type};

/// Where local mode listens when neither `FAAS_LISTEN` nor `--listen` says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The port an HTTP function serves on outside Lambda, on every interface (Knative's, Cloud
/// Run's and OpenFaaS's convention).
#[cfg(feature = "http")]
pub(crate) const PORT: &str = "PORT";

/// What kind of function the process runs, which decides what it does outside Lambda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An event handler: local mode serves Lambda's invoke endpoint.
    Events,
    /// An HTTP function (`crate::http`): local HTTP mode serves plain HTTP.
    #[cfg(feature = "http")]
    Http,
}

/// What the process is started to do; chosen once at start, from `AWS_LAMBDA_RUNTIME_API` and,
/// without it, the command line.
#[derive(Debug, Clone)]
pub(crate) enum Mode {
    /// Poll the Runtime API at this address (Lambda, or `faas-emulator`).
    Lambda(Endpoint),
    /// Local mode: serve the invoke endpoint here and run this binary behind it.
    Local(SocketAddr),
    /// Local HTTP mode: serve plain HTTP here, each request as a function URL event.
    #[cfg(feature = "http")]
    Http(SocketAddr),
    /// `--help`: print the usage.
    Help,
    /// `--version`: print the version.
    Version,
}

impl Mode {
    /// The mode the process environment and arguments select for a function of `kind`.
    pub fn from_env(kind: Kind) -> Result<Self, Error> {
        Self::from_lookup(
            kind,
            |key| std::env::var(key).ok(),
            std::env::args().skip(1),
        )
    }

    fn from_lookup(
        kind: Kind,
        var: impl Fn(&str) -> Option<String>,
        args: impl Iterator<Item = String>,
    ) -> Result<Self, Error> {
        if let Some(api) = runtime_api(&var)? {
            // Lambda passes no arguments; whatever is there is the function's own.
            return Ok(Mode::Lambda(api));
        }
        let listen = match cli::parse(args) {
            Ok(Command::Help) => return Ok(Mode::Help),
            Ok(Command::Version) => return Ok(Mode::Version),
            Ok(Command::Serve { listen, .. }) => listen,
            Err(usage) => {
                return Err(config_error(format!(
                    "{usage} (see {} --help)",
                    cli::program()
                )));
            }
        };
        #[cfg(feature = "http")]
        if kind == Kind::Http {
            // `--listen`, else `$PORT` on every interface, else as local mode.
            let port = var(PORT).filter(|p| !p.trim().is_empty());
            let listen_text = match (listen, port) {
                (Some(listen), _) => listen,
                (None, Some(port)) => match port.trim().parse::<u16>() {
                    Ok(port) => format!("0.0.0.0:{port}"),
                    Err(_) => {
                        return Err(config_error(format!(
                            "{PORT} must be a port number, got {port:?}"
                        )));
                    }
                },
                (None, None) => var(env::LISTEN).unwrap_or_else(|| DEFAULT_LISTEN.into()),
            };
            return parse_listen(&listen_text).map(Mode::Http);
        }
        let _ = kind;
        let listen_text = listen
            .or_else(|| var(env::LISTEN))
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        parse_listen(&listen_text).map(Mode::Local)
    }
}

fn parse_listen(listen_text: &str) -> Result<SocketAddr, Error> {
    listen_text.parse().map_err(|_| {
        config_error(format!(
            "the local-mode listen address ({} or --listen) must be IP:PORT, got {listen_text:?}",
            env::LISTEN
        ))
    })
}

/// The function's settings and the log's, read from the environment.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub function: Arc<FunctionSettings>,
    pub log_format: Format,
    pub log_level: Level,
    /// `AWS_LAMBDA_MAX_CONCURRENCY` (Managed Instances): invocations run at once; 1 when unset.
    pub max_concurrency: usize,
}

/// The most workers a process runs (`AWS_LAMBDA_MAX_CONCURRENCY` above it is capped, with a
/// warning): each holds a connection, a file descriptor of the process's limit.
pub(crate) const MAX_WORKERS: usize = 1024;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let defaults = FunctionSettings::default();
        let function_name = var(env::FUNCTION_NAME).unwrap_or(defaults.function_name);
        let memory_size_mb = match var(env::FUNCTION_MEMORY_SIZE) {
            None => defaults.memory_size_mb,
            Some(v) => v.trim().parse().map_err(|_| {
                config_error(format!(
                    "{} must be a whole number of MB, got {v:?}",
                    env::FUNCTION_MEMORY_SIZE
                ))
            })?,
        };
        let log_format = match var(env::LOG_FORMAT) {
            None => Format::Text,
            Some(v) => Format::parse(&v).ok_or_else(|| {
                config_error(format!(
                    "{} must be Text or JSON, got {v:?}",
                    env::LOG_FORMAT
                ))
            })?,
        };
        let log_level = match var(env::LOG_LEVEL).or_else(|| var("RUST_LOG")) {
            None => Level::INFO,
            Some(v) => Level::parse(&v).ok_or_else(|| {
                config_error(format!(
                    "{} (or RUST_LOG) must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, got {v:?}",
                    env::LOG_LEVEL
                ))
            })?,
        };
        let max_concurrency = match var(env::MAX_CONCURRENCY) {
            None => 1,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(config_error(format!(
                        "{} must be a whole number of invocations, at least 1, got {v:?}",
                        env::MAX_CONCURRENCY
                    )));
                }
            },
        };
        Ok(Self {
            function: Arc::new(FunctionSettings {
                log_group_name: var(env::LOG_GROUP_NAME)
                    .unwrap_or_else(|| format!("/aws/lambda/{function_name}")),
                log_stream_name: var(env::LOG_STREAM_NAME).unwrap_or(defaults.log_stream_name),
                version: var(env::FUNCTION_VERSION).unwrap_or(defaults.version),
                function_name,
                memory_size_mb,
            }),
            log_format,
            log_level,
            max_concurrency,
        })
    }
}

/// `AWS_LAMBDA_RUNTIME_API`, parsed; unset or empty is local mode.
pub(crate) fn runtime_api(var: impl Fn(&str) -> Option<String>) -> Result<Option<Endpoint>, Error> {
    match var(env::RUNTIME_API).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => Endpoint::parse(&v)
            .map(Some)
            .map_err(|e| config_error(e.to_string())),
    }
}

fn config_error(message: String) -> Error {
    Error::new(error_type::CONFIG, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    fn mode(vars: &[(&str, &str)], args: &[&str]) -> Result<Mode, Error> {
        Mode::from_lookup(
            Kind::Events,
            lookup(vars),
            args.iter().map(|a| a.to_string()),
        )
    }

    #[cfg(feature = "http")]
    fn http_mode(vars: &[(&str, &str)], args: &[&str]) -> Result<Mode, Error> {
        Mode::from_lookup(Kind::Http, lookup(vars), args.iter().map(|a| a.to_string()))
    }

    #[cfg(feature = "http")]
    #[test]
    fn http_functions_serve_port_on_every_interface_else_as_local_mode() {
        let at = |m: Result<Mode, Error>| match m {
            Ok(Mode::Http(a)) => a.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(at(http_mode(&[("PORT", "9090")], &[])), "0.0.0.0:9090");
        assert_eq!(
            at(http_mode(
                &[("PORT", "9090"), ("FAAS_LISTEN", "127.0.0.1:7")],
                &[]
            )),
            "0.0.0.0:9090"
        );
        assert_eq!(
            at(http_mode(&[("FAAS_LISTEN", "127.0.0.1:7")], &[])),
            "127.0.0.1:7"
        );
        assert_eq!(at(http_mode(&[], &[])), DEFAULT_LISTEN);
        assert_eq!(
            at(http_mode(&[("PORT", "9090")], &["--listen", "127.0.0.1:9"])),
            "127.0.0.1:9"
        );
        let e = http_mode(&[("PORT", "http")], &[]).unwrap_err();
        assert!(e.message().contains("PORT"), "{e}");
        // Under Lambda, still Lambda; and plain functions never read PORT.
        let m = http_mode(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")], &[]);
        assert!(matches!(m, Ok(Mode::Lambda(_))), "{m:?}");
        let m = mode(&[("PORT", "9090")], &[]);
        assert!(
            matches!(m, Ok(Mode::Local(a)) if a.to_string() == DEFAULT_LISTEN),
            "{m:?}"
        );
    }

    fn config(vars: &[(&str, &str)]) -> Result<Config, Error> {
        Config::from_lookup(lookup(vars))
    }

    #[test]
    fn defaults_select_local_mode_on_loopback() {
        let local: SocketAddr = DEFAULT_LISTEN.parse().unwrap();
        assert!(matches!(mode(&[], &[]), Ok(Mode::Local(a)) if a == local));
        let c = config(&[]).unwrap();
        assert_eq!(c.log_format, Format::Text);
        assert_eq!(c.function.log_group_name, "/aws/lambda/function");
        assert_eq!(c.max_concurrency, 1);
        let c = config(&[("AWS_LAMBDA_MAX_CONCURRENCY", " 64 ")]).unwrap();
        assert_eq!(c.max_concurrency, 64);
    }

    #[test]
    fn flag_wins_over_env() {
        let m = mode(
            &[("FAAS_LISTEN", "0.0.0.0:8080")],
            &["--listen", "127.0.0.1:9"],
        );
        assert!(matches!(m, Ok(Mode::Local(a)) if a.to_string() == "127.0.0.1:9"));
        let m = mode(&[("FAAS_LISTEN", "0.0.0.0:8080")], &[]);
        assert!(matches!(m, Ok(Mode::Local(a)) if a.to_string() == "0.0.0.0:8080"));
    }

    #[test]
    fn under_lambda_arguments_are_not_read() {
        let m = mode(
            &[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")],
            &["--bogus", "--listen"],
        );
        assert!(matches!(m, Ok(Mode::Lambda(_))), "{m:?}");
    }

    #[test]
    fn usage_errors_are_config_errors_that_name_the_argument() {
        let e = mode(&[], &["--bogus"]).unwrap_err();
        assert_eq!(e.error_type(), error_type::CONFIG);
        assert!(e.message().contains("--bogus") && e.message().contains("--help"));
        assert!(matches!(mode(&[], &["--help"]), Ok(Mode::Help)));
        assert!(matches!(mode(&[], &["--version"]), Ok(Mode::Version)));
    }

    #[test]
    fn bad_settings_are_config_errors_that_name_the_variable() {
        for (key, value) in [
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots"),
            ("AWS_LAMBDA_LOG_FORMAT", "xml"),
            ("AWS_LAMBDA_LOG_LEVEL", "loud"),
            ("AWS_LAMBDA_MAX_CONCURRENCY", "0"),
            ("AWS_LAMBDA_MAX_CONCURRENCY", "many"),
            ("AWS_LAMBDA_MAX_CONCURRENCY", "-8"),
        ] {
            let e = config(&[(key, value)]).unwrap_err();
            assert_eq!(e.error_type(), error_type::CONFIG);
            assert!(e.message().contains(key), "{e}");
        }
        for (key, value) in [
            ("FAAS_LISTEN", "nowhere"),
            ("AWS_LAMBDA_RUNTIME_API", "https://127.0.0.1:9001"),
        ] {
            let e = mode(&[(key, value)], &[]).unwrap_err();
            assert_eq!(e.error_type(), error_type::CONFIG);
            assert!(e.message().contains(key), "{e}");
        }
    }
}
