//! The subcommands' options, read with `lexopt`: it does the tokenizing (`--name value`,
//! `--name=value`, `--` ending the options, a value given to a flag) and words the errors;
//! this module only records what each subcommand declared, so a subcommand reads its options
//! by name and parses typed values with one error format.

use std::collections::HashMap;
use std::str::FromStr;

use lexopt::{Arg, Parser};

/// Parsed arguments of one subcommand.
///
/// ```ignore
/// let args = Args::parse(&argv, &["panic"], &["url", "wait"])?;
/// let wait: u64 = args.parsed("wait", 0)?;
/// ```
#[derive(Debug, Default)]
pub struct Args {
    values: HashMap<String, Vec<String>>,
    flags: Vec<String>,
    /// Arguments that are not options, in order (everything after `--` is one).
    pub positional: Vec<String>,
}

impl Args {
    /// Parses `argv`; `flags` lists the options that take no value, `options` those that do.
    /// Any other option is an error, and so is a value given to a flag (`--panic=yes`).
    pub fn parse(argv: &[String], flags: &[&str], options: &[&str]) -> Result<Args, String> {
        let mut args = Args::default();
        let mut parser = Parser::from_args(argv);
        while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
            match arg {
                Arg::Long(name) if flags.contains(&name) => args.flags.push(name.to_string()),
                Arg::Long(name) if options.contains(&name) => {
                    let name = name.to_string();
                    let value = parser.value().map_err(|e| e.to_string())?;
                    let value = value
                        .into_string()
                        .map_err(|v| format!("--{name}: {v:?} is not valid UTF-8"))?;
                    args.values.entry(name).or_default().push(value);
                }
                Arg::Value(value) => args.positional.push(
                    value
                        .into_string()
                        .map_err(|v| format!("{v:?} is not valid UTF-8"))?,
                ),
                other => return Err(other.unexpected().to_string()),
            }
        }
        Ok(args)
    }

    /// Whether the boolean `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    /// The last value of `--name`, if given.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    /// Every value of a repeatable `--name`; commas also separate values.
    pub fn values(&self, name: &str) -> Vec<String> {
        self.values
            .get(name)
            .into_iter()
            .flatten()
            .flat_map(|v| v.split(','))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// `--name` parsed as a `T`, or `default` when absent.
    pub fn parsed<T: FromStr>(&self, name: &str, default: T) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        match self.value(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|e| format!("--{name}: cannot parse `{v}`: {e}")),
        }
    }
}

/// Whether `argv` asks for help: `-h` or `--help` before any `--`.
pub fn asks_for_help(argv: &[String]) -> bool {
    argv.iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "-h" || a == "--help")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn options_flags_and_positionals_are_separated() {
        let a = Args::parse(
            &argv("img.tar --budget 10 --top=3 --panic --only a,b --only c -- --literal"),
            &["panic"],
            &["budget", "top", "only"],
        )
        .unwrap();
        assert_eq!(a.positional, ["img.tar", "--literal"]);
        assert_eq!(a.parsed("budget", 0u64).unwrap(), 10);
        assert_eq!(a.parsed("top", 0usize).unwrap(), 3);
        assert!(a.flag("panic"));
        assert!(!a.flag("other"));
        assert_eq!(a.values("only"), ["a", "b", "c"]);
    }

    #[test]
    fn errors_name_the_option() {
        let err = |s: &str| Args::parse(&argv(s), &["panic"], &["budget"]).unwrap_err();
        assert_eq!(err("--nope"), "invalid option '--nope'");
        assert_eq!(err("-x"), "invalid option '-x'");
        assert_eq!(err("--budget"), "missing argument for option '--budget'");
        assert!(
            err("--panic=yes").contains("--panic"),
            "{}",
            err("--panic=yes")
        );
        let a = Args::parse(&argv("--budget x"), &[], &["budget"]).unwrap();
        let e = a.parsed("budget", 0u64).unwrap_err();
        assert!(e.starts_with("--budget: cannot parse `x`: "), "{e}");
    }

    #[test]
    fn help_is_found_before_the_separator_only() {
        assert!(asks_for_help(&argv("--runs 3 --help")));
        assert!(asks_for_help(&argv("-h")));
        assert!(!asks_for_help(&argv("--runs 3 -- --help")));
        assert!(!asks_for_help(&argv("--runs 3")));
    }
}
