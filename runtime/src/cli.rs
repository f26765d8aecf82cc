//! The command line of local mode: `--listen`, `--max-concurrency`, `--help`, `--version`, and
//! nothing else.
//!
//! Only local mode reads arguments. Under Lambda (`AWS_LAMBDA_RUNTIME_API` set) the runtime
//! interprets none: Lambda passes none, and a user's own binary may take its own. Outside Lambda
//! a person types them, so an unknown one is refused with its name instead of ignored.

use std::fmt;

use crate::protocol::env;

/// What the command line asks local mode to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// Serve; `listen` is `--listen`'s address when given, `max_concurrency`
    /// `--max-concurrency`'s count (Lambda Managed Instances) when given.
    Serve {
        listen: Option<String>,
        max_concurrency: Option<usize>,
    },
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
    /// `--max-concurrency` that is not a whole number from 1 to the emulator's limit.
    BadConcurrency(String),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::Unknown(arg) => write!(f, "unknown argument {arg:?}"),
            UsageError::MissingValue(flag) => {
                write!(f, "{flag} needs a value, e.g. {}", example(flag))
            }
            UsageError::BadConcurrency(value) => write!(
                f,
                "--max-concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, got {value:?}"
            ),
        }
    }
}

/// The most invocations local mode runs at once (`--max-concurrency`): as many as the
/// emulator's Runtime API port holds connections for.
pub(crate) const MAX_CONCURRENCY: usize = 256;

/// A value for `flag`, as its error shows it.
fn example(flag: &str) -> String {
    match flag {
        "--max-concurrency" => format!("{flag} 8"),
        _ => format!("{flag} 127.0.0.1:8080"),
    }
}

/// `--max-concurrency`'s value: 1 to [`MAX_CONCURRENCY`].
pub(crate) fn parse_concurrency(value: &str) -> Result<usize, UsageError> {
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(UsageError::BadConcurrency(value.to_owned())),
    }
}

/// Reads local mode's arguments (the program name excluded); `--help` and `--version` win
/// over anything after them.
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let mut listen = None;
    let mut max_concurrency = None;
    // `--flag VALUE` or `--flag=VALUE`; `None` when `arg` is not `flag`.
    let value_of = |arg: &str, flag: &'static str, args: &mut dyn Iterator<Item = String>| {
        let value = if arg == flag {
            args.next().filter(|v| !v.is_empty() && !v.starts_with('-'))
        } else {
            match arg.strip_prefix(flag).and_then(|v| v.strip_prefix('=')) {
                Some(v) => Some(v.to_owned()).filter(|v| !v.is_empty()),
                None => return None,
            }
        };
        Some(value.ok_or(UsageError::MissingValue(flag)))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            _ => {}
        }
        if let Some(value) = value_of(&arg, "--listen", &mut args) {
            listen = Some(value?);
        } else if let Some(value) = value_of(&arg, "--max-concurrency", &mut args) {
            max_concurrency = Some(parse_concurrency(&value?)?);
        } else {
            return Err(UsageError::Unknown(arg));
        }
    }
    Ok(Command::Serve {
        listen,
        max_concurrency,
    })
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
        "usage: {program} [--listen ADDR] [--max-concurrency N]
A Lambda function. With {api} set (as on Lambda) it polls that Runtime API and
reads no arguments. Without it, local mode: it serves Lambda's invoke endpoint on ADDR and
runs itself as the function process behind it.
  --listen ADDR          where local mode listens (default {faas_listen}, else {listen})
  --max-concurrency N    Lambda Managed Instances: run up to N invocations at once, as
                         {max_concurrency}=N does (default {max_concurrency}, else 1)
  -h, --help             this text
  -V, --version          the version and the target it was built for
Environment: {timeout} (seconds, default 300), {log_level}, {log_format}.
Invoke with: curl -d '{{}}' http://{listen}/2015-03-31/functions/function/invocations
Stream with: curl -N -d '{{}}' http://{listen}/2021-11-15/functions/function/response-streaming-invocations",
        api = env::RUNTIME_API,
        faas_listen = env::LISTEN,
        timeout = env::FUNCTION_TIMEOUT,
        log_level = env::LOG_LEVEL,
        log_format = env::LOG_FORMAT,
        max_concurrency = env::MAX_CONCURRENCY,
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
                    listen: Some("0.0.0.0:9".into()),
                    max_concurrency: None,
                })
            );
        }
        assert_eq!(
            parse_str(&[]),
            Ok(Command::Serve {
                listen: None,
                max_concurrency: None
            })
        );
    }

    #[test]
    fn max_concurrency_in_both_spellings_and_its_bounds() {
        for args in [
            &["--max-concurrency", "8", "--listen", "x"][..],
            &["--listen=x", "--max-concurrency=8"],
        ] {
            assert_eq!(
                parse_str(args),
                Ok(Command::Serve {
                    listen: Some("x".into()),
                    max_concurrency: Some(8),
                })
            );
        }
        for bad in ["0", "-1", "eight", "257", "1.5"] {
            let e = parse_str(&[&format!("--max-concurrency={bad}")]).unwrap_err();
            assert_eq!(e, UsageError::BadConcurrency(bad.into()));
            assert!(e.to_string().contains("from 1 to 256"), "{e}");
        }
        assert_eq!(
            parse_str(&["--max-concurrency"]),
            Err(UsageError::MissingValue("--max-concurrency"))
        );
        assert!(
            UsageError::MissingValue("--max-concurrency")
                .to_string()
                .ends_with("--max-concurrency 8")
        );
        assert_eq!(
            parse_str(&["--max-concurrencyX"]),
            Err(UsageError::Unknown("--max-concurrencyX".into()))
        );
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
            "--max-concurrency",
            "AWS_LAMBDA_MAX_CONCURRENCY",
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
