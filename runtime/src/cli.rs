//! The command line of local mode: `--listen`, `--help`, `--version`, and nothing else.
//!
//! Only local mode reads arguments. Under Lambda (`AWS_LAMBDA_RUNTIME_API` set) the runtime
//! interprets none: Lambda passes none, and a user's own binary may take its own. Outside Lambda
//! a person types them, so an unknown one is refused with its name instead of ignored.

use std::fmt;

use crate::protocol::env;

/// What the command line asks local mode to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// Serve; `listen` is `--listen`'s address when given.
    Serve { listen: Option<String> },
    /// Print the usage.
    Help,
    /// Print the version.
    Version,
}

/// An argument local mode does not take, or a flag without its value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UsageError {
    Unknown(String),
    MissingValue(&'static str),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::Unknown(arg) => write!(f, "unknown argument {arg:?}"),
            UsageError::MissingValue(flag) => {
                write!(f, "{flag} needs a value, e.g. {flag} 127.0.0.1:8080")
            }
        }
    }
}

/// Reads local mode's arguments (the program name excluded); `--help` and `--version` win
/// over anything after them.
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let mut listen = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--listen" => match args.next() {
                Some(value) if !value.is_empty() && !value.starts_with('-') => listen = Some(value),
                _ => return Err(UsageError::MissingValue("--listen")),
            },
            _ => match arg.strip_prefix("--listen=") {
                Some("") => return Err(UsageError::MissingValue("--listen")),
                Some(value) => listen = Some(value.to_owned()),
                None => return Err(UsageError::Unknown(arg)),
            },
        }
    }
    Ok(Command::Serve { listen })
}

/// The name the usage and errors give the program: its file name, `bootstrap` on Lambda.
pub(crate) fn program() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bootstrap".into())
}

/// `--version`: the crate's version and the target it was built for.
pub(crate) fn version(program: &str) -> String {
    format!(
        "{program} (faas-runtime {} {})",
        env!("CARGO_PKG_VERSION"),
        env!("FAAS_RUNTIME_TARGET")
    )
}

/// `--help`, in the form `faas-emulator` and `faas-check` use.
pub(crate) fn usage(program: &str) -> String {
    let listen = crate::config::DEFAULT_LISTEN;
    format!(
        "usage: {program} [--listen ADDR]
A Lambda function. With {api} set (as on Lambda) it polls that Runtime API and
reads no arguments. Without it, local mode: it serves Lambda's invoke endpoint on ADDR and
runs itself as the function process behind it.
  --listen ADDR   where local mode listens (default {faas_listen}, else {listen})
  -h, --help      this text
  -V, --version   the version and the target it was built for
Environment: {timeout} (seconds, default 300), {log_level}, {log_format}.
Invoke with: curl -d '{{}}' http://{listen}/2015-03-31/functions/function/invocations
Stream with: curl -N -d '{{}}' http://{listen}/2021-11-15/functions/function/response-streaming-invocations",
        api = env::RUNTIME_API,
        faas_listen = env::LISTEN,
        timeout = env::FUNCTION_TIMEOUT,
        log_level = env::LOG_LEVEL,
        log_format = env::LOG_FORMAT,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn listen_in_both_spellings() {
        for args in [&["--listen", "0.0.0.0:9"][..], &["--listen=0.0.0.0:9"]] {
            assert_eq!(
                parse_str(args),
                Ok(Command::Serve {
                    listen: Some("0.0.0.0:9".into())
                })
            );
        }
        assert_eq!(parse_str(&[]), Ok(Command::Serve { listen: None }));
    }

    #[test]
    fn help_and_version_win() {
        assert_eq!(parse_str(&["--listen", "x", "--help"]), Ok(Command::Help));
        assert_eq!(parse_str(&["-h"]), Ok(Command::Help));
        assert_eq!(parse_str(&["--version"]), Ok(Command::Version));
        assert_eq!(parse_str(&["-V"]), Ok(Command::Version));
    }

    #[test]
    fn unknown_arguments_and_missing_values_are_refused() {
        assert_eq!(
            parse_str(&["--bogus"]),
            Err(UsageError::Unknown("--bogus".into()))
        );
        assert_eq!(
            parse_str(&["serve"]),
            Err(UsageError::Unknown("serve".into()))
        );
        for args in [&["--listen"][..], &["--listen="], &["--listen", "--help"]] {
            assert_eq!(parse_str(args), Err(UsageError::MissingValue("--listen")));
        }
    }

    #[test]
    fn usage_names_the_program_and_its_flags() {
        let text = usage("bootstrap");
        assert!(text.starts_with("usage: bootstrap "));
        for word in [
            "--listen",
            "--help",
            "--version",
            "AWS_LAMBDA_RUNTIME_API",
            "curl",
        ] {
            assert!(text.contains(word), "{word}");
        }
        assert!(version("bootstrap").contains(env!("CARGO_PKG_VERSION")));
    }
}
