//! A small command-line parser: `--name value`, `--name=value`, boolean `--flag`s and
//! positional arguments, enough for four subcommands without a dependency.

use std::collections::HashMap;
use std::str::FromStr;

/// Parsed arguments of one subcommand.
#[derive(Debug, Default)]
pub struct Args {
    values: HashMap<String, Vec<String>>,
    flags: Vec<String>,
    /// Arguments that do not start with `--`, in order.
    pub positional: Vec<String>,
}

impl Args {
    /// Parses `argv`; `flags` lists the options that take no value, `options` those that do.
    /// Anything else starting with `--` is an error.
    pub fn parse(argv: &[String], flags: &[&str], options: &[&str]) -> Result<Args, String> {
        let mut args = Args::default();
        let mut iter = argv.iter();
        while let Some(arg) = iter.next() {
            let Some(name) = arg.strip_prefix("--") else {
                args.positional.push(arg.clone());
                continue;
            };
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (name, None),
            };
            if flags.contains(&name) && inline.is_none() {
                args.flags.push(name.to_string());
            } else if options.contains(&name) {
                let value = match inline {
                    Some(v) => v,
                    None => iter
                        .next()
                        .cloned()
                        .ok_or(format!("--{name} needs a value"))?,
                };
                args.values.entry(name.to_string()).or_default().push(value);
            } else {
                return Err(format!("unknown option --{name}"));
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
    pub fn parsed<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.value(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: `{v}` is not a valid value")),
        }
    }
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
            &argv("img.tar --budget 10 --top=3 --panic --only a,b --only c"),
            &["panic"],
            &["budget", "top", "only"],
        )
        .unwrap();
        assert_eq!(a.positional, ["img.tar"]);
        assert_eq!(a.parsed("budget", 0u64).unwrap(), 10);
        assert_eq!(a.parsed("top", 0usize).unwrap(), 3);
        assert!(a.flag("panic"));
        assert_eq!(a.values("only"), ["a", "b", "c"]);
    }

    #[test]
    fn unknown_options_and_missing_values_are_errors() {
        assert!(Args::parse(&argv("--nope"), &[], &[]).is_err());
        assert!(Args::parse(&argv("--budget"), &[], &["budget"]).is_err());
        let a = Args::parse(&argv("--budget x"), &[], &["budget"]).unwrap();
        assert!(a.parsed("budget", 0u64).is_err());
    }
}
