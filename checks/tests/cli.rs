//! The command lines as a person meets them (issue 23): `bootstrap --help` and `--version`
//! answer and exit 0 without serving, a typo is refused with exit 2 and its name, and the
//! three programs print their usage in one form (`usage: NAME ...` first).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use faas_checks::fixture::binary;
use faas_runtime::emulator::READY_FILE_VAR;

/// `program args` in local mode (no Runtime API), with a ready file the emulator would write
/// if it started serving; returns its output and whether the file appeared.
fn run_local(program: &Path, args: &[&str]) -> (Output, bool) {
    let ready = std::env::temp_dir().join(format!(
        "faas-cli-ready-{}-{}.json",
        std::process::id(),
        args.join("_").replace(['/', ' '], "-")
    ));
    let _ = std::fs::remove_file(&ready);
    let mut child = Command::new(program)
        .args(args)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        // A port that is free: if the program started local mode it would serve here.
        .env("FAAS_LISTEN", "127.0.0.1:0")
        .env(READY_FILE_VAR, &ready)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "{} {args:?} is still running after 10 s (it serves instead of answering); stderr:\n{}",
                program.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    let served = ready.exists();
    let _ = std::fs::remove_file(&ready);
    (output, served)
}

fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn help_prints_usage_and_exits_0_without_serving() {
    for flag in ["--help", "-h"] {
        let (out, served) = run_local(&binary("bootstrap"), &[flag]);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert!(!served, "{flag} started local mode");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            first_line(&out.stdout).starts_with("usage: bootstrap "),
            "{text}"
        );
        for needed in ["--listen", "FAAS_LISTEN", "AWS_LAMBDA_RUNTIME_API", "curl"] {
            assert!(
                text.contains(needed),
                "--help does not mention {needed}:\n{text}"
            );
        }
    }
}

#[test]
fn version_names_the_crate_version_and_target_and_exits_0() {
    let (out, served) = run_local(&binary("bootstrap"), &["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!served, "--version started local mode");
    let line = first_line(&out.stdout);
    assert!(line.starts_with("bootstrap (faas-runtime "), "{line}");
    assert!(line.contains(env!("CARGO_PKG_VERSION")), "{line}");
    assert!(line.contains(std::env::consts::ARCH), "{line}");
}

#[test]
fn unknown_arguments_exit_2_with_their_name() {
    for bad in ["--bogus", "serve", "-x"] {
        let (out, served) = run_local(&binary("bootstrap"), &[bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(!served, "{bad} started local mode");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(bad) && err.contains("--help"), "{bad}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn listen_without_a_value_exits_2() {
    for args in [
        &["--listen"][..],
        &["--listen="],
        &["--listen", "--version"],
    ] {
        let (out, served) = run_local(&binary("bootstrap"), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!served);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--listen needs a value"), "{args:?}: {err}");
    }
}

#[test]
fn under_lambda_arguments_are_left_to_the_function() {
    // With a Runtime API set, `--bogus` is not refused: the runtime polls the API (here a
    // closed port, so it gives up as for an unreachable API: exit 1, not 2).
    let out = Command::new(binary("bootstrap"))
        .arg("--bogus")
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the Runtime API"), "{err}");
    assert!(!err.contains("--bogus"), "{err}");
}

#[test]
fn the_three_programs_print_usage_in_one_form() {
    for name in ["bootstrap", "faas-emulator", "faas-check"] {
        let (out, served) = run_local(&binary(name), &["--help"]);
        assert_eq!(out.status.code(), Some(0), "{name}");
        assert!(!served);
        let line = first_line(&out.stdout);
        assert!(
            line.starts_with(&format!("usage: {name} ")),
            "{name}: {line}"
        );
    }
}

#[test]
#[ignore = "needs the Lambda-only build (no `local` feature): make rust-tests builds it and runs this"]
fn without_local_mode_a_function_says_how_to_run_it() {
    let echo = faas_checks::fixture::profile_dir()
        .join("../lambda-only/debug/echo")
        .canonicalize()
        .expect("target/lambda-only/debug/echo is missing: cargo build -p faas-bench-ours --bin echo --target-dir target/lambda-only");
    let (out, served) = run_local(&echo, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!served);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("AWS_LAMBDA_RUNTIME_API is unset") && err.contains("faas-emulator"),
        "{err}"
    );
}
