//! The aarch64 (Graviton) build, end to end: the static aarch64 `bootstrap` and examples run
//! under user-mode emulation (`qemu-aarch64-static`, called directly: binfmt_misc is not
//! needed) behind the x86_64 `faas-emulator`, over the same loopback Runtime API as native.
//!
//! What emulation proves: the cross build links, starts, speaks the Runtime API, reports
//! handler errors and panics (the panic hook posts before `abort`), and honours SIGTERM.
//! What it cannot prove: anything about speed on real arm64 hardware. The emulated timings
//! printed here are labelled as such and are never a figure of the runtime.
//!
//! These tests need the cross build and qemu, so they are `#[ignore]`d in a plain
//! `cargo test`; `make aarch64-tests` builds what they need and runs them with `--ignored`.
//! The binaries come from `FAAS_AARCH64_DIR` (default `target/aarch64-unknown-linux-musl/release`):
//! `bootstrap` and `examples/{error,panic,sleep}`. A missing one fails with how to build it.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use faas_checks::fixture::{Function, profile_dir};
use serde_json::json;

const QEMU: &str = "qemu-aarch64-static";
const BUILD: &str = "make aarch64 (or images/build-bootstrap.sh --target aarch64-unknown-linux-musl [--example NAME])";

/// The aarch64 release directory: `$FAAS_AARCH64_DIR` or cargo's default.
fn aarch64_dir() -> PathBuf {
    std::env::var_os("FAAS_AARCH64_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            profile_dir()
                .parent()
                .expect("target/<profile> has a parent")
                .join("aarch64-unknown-linux-musl/release")
        })
}

/// An aarch64 artifact (`bootstrap` or `examples/NAME`), asserted to exist.
fn artifact(relative: &str) -> PathBuf {
    let path = aarch64_dir().join(relative);
    assert!(
        path.exists(),
        "{} is missing: build it with {BUILD}, or point FAAS_AARCH64_DIR at the directory holding it",
        path.display()
    );
    path
}

/// `artifact` under qemu behind `faas-emulator`.
fn emulated(relative: &str) -> Function {
    let qemu_found = Command::new(QEMU)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        qemu_found,
        "{QEMU} is not on PATH: apt-get install qemu-user-static (make aarch64 does)"
    );
    let binary = artifact(relative);
    // The sigterm test below checks the function's own SIGTERM handling: the emulator signals
    // it although no extension registered (Lambda would kill it; checks/tests/lifecycle.rs).
    Function::emulated_command(
        &[OsStr::new(QEMU), binary.as_os_str()],
        &[("FAAS_EMULATOR_SIGTERM", "always")],
        &[],
    )
}

#[test]
#[ignore = "needs the aarch64 cross build and qemu: make aarch64-tests runs it"]
fn aarch64_hello_answers_under_emulation() {
    let started = Instant::now();
    let f = emulated("bootstrap");
    let r = f.invoke(br#"{"name":"Graviton"}"#);
    let first = started.elapsed();
    assert_eq!(r.status, 200, "{}\n{}", r.body_excerpt(), f.output());
    assert_eq!(r.header("x-amz-function-error"), None);
    assert_eq!(r.expect_json(), json!({"message": "Hello, Graviton!"}));
    let r = f.invoke(br#"{"name":""}"#);
    r.expect_function_error("EmptyName");
    // Not a figure of the runtime: qemu translates every instruction on first use.
    println!(
        "emulated (qemu-aarch64-static on x86_64), not comparable to native: emulator start to first answer {:.1} ms",
        first.as_secs_f64() * 1e3
    );
    if let Some(report) = f.wait_for_output("Init Duration", Duration::from_secs(2)) {
        println!(
            "emulated (qemu-aarch64-static on x86_64): {}",
            report.trim()
        );
    }
}

#[test]
#[ignore = "needs the aarch64 cross build and qemu: make aarch64-tests runs it"]
fn aarch64_handler_error_reaches_caller_with_its_type() {
    let f = emulated("examples/error");
    let body = f.invoke(b"{}").expect_function_error("OrderRejected");
    assert_eq!(body["errorMessage"], "the order was rejected on purpose");
}

#[test]
#[ignore = "needs the aarch64 cross build and qemu: make aarch64-tests runs it"]
fn aarch64_panic_is_posted_by_the_hook_and_the_function_restarts() {
    let f = emulated("examples/panic");
    for _ in 0..2 {
        let body = f.invoke(b"{}").expect_function_error("Runtime.Panic");
        let message = body["errorMessage"].as_str().unwrap_or_default();
        assert!(
            message.contains("the panic example panicked on purpose"),
            "{body}"
        );
    }
}

#[test]
#[ignore = "needs the aarch64 cross build and qemu: make aarch64-tests runs it"]
fn aarch64_sigterm_during_an_invocation_finishes_it_then_exits_0() {
    let mut f = emulated("examples/sleep");
    // One invocation first, so the next one starts promptly even under emulation.
    assert_eq!(f.invoke(br#"{"ms":1}"#).status, 200, "{}", f.output());
    std::thread::scope(|s| {
        let call = s.spawn(|| f.invoke(br#"{"ms":1500}"#));
        std::thread::sleep(Duration::from_millis(500));
        f.signal(libc::SIGTERM);
        let r = call.join().unwrap();
        assert_eq!(r.status, 200, "{}\n{}", r.body_excerpt(), f.output());
        assert_eq!(r.expect_json(), json!({"slept_ms": 1500}));
    });
    let status = f
        .wait(Duration::from_secs(20))
        .expect("the emulator exits after SIGTERM");
    assert!(status.success(), "{status}\n{}", f.output());
    let line = f
        .wait_for_output(
            "stopped; the function process ended",
            Duration::from_secs(2),
        )
        .unwrap_or_else(|| panic!("no stop line:\n{}", f.output()));
    assert!(
        line.contains("exit status: 0"),
        "the function itself (qemu running it) exits 0: {line}"
    );
}
