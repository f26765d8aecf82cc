//! Files a test shares with the processes it starts: a scratch directory per test, and waiting
//! for a file that another process writes (an extension's log, a hook's, a telemetry
//! destination's) to say something. One copy for every test file, so that each waits the same
//! way and for the same time.
//!
//! ```no_run
//! use faas_checks::files::{scratch, wait_for_file};
//!
//! let dir = scratch("hook");
//! let log = dir.join("hook.log");
//! // ... start a process that writes `log` ...
//! assert!(wait_for_file(&log, "hook ran"));
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the waits here wait before they give up.
pub const WAIT: Duration = Duration::from_secs(20);

/// A fresh, empty directory for the test `test`, named after the test binary (the test file)
/// and this process: `faas-lifecycle-4242-hook` for `scratch("hook")` in `tests/lifecycle.rs`.
/// Whatever an earlier run left there is removed.
///
/// ```no_run
/// let dir = faas_checks::files::scratch("order");
/// assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
/// ```
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "faas-{}-{}-{test}",
        test_binary(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot make {}: {e}", dir.display()));
    dir
}

/// The running test binary's name without cargo's hash (`lifecycle` for `lifecycle-1a2b…`).
fn test_binary() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let stem = exe
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.bytes().all(|b| b.is_ascii_hexdigit()) => name.to_owned(),
        _ => stem,
    }
}

/// `path`'s text; empty while the file does not exist (yet).
///
/// ```
/// assert_eq!(faas_checks::files::read("/nonexistent/x.log".as_ref()), "");
/// ```
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Waits up to [`WAIT`] for `done` to hold of `path`'s text; whether it did.
///
/// ```no_run
/// # let log = std::path::Path::new("/tmp/extension.log");
/// let both = faas_checks::files::wait_until(log, |t| t.matches("INVOKE ").count() >= 2);
/// ```
pub fn wait_until(path: &Path, done: impl Fn(&str) -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if done(&read(path)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Waits up to [`WAIT`] for `path` to contain `needle`; whether it did.
///
/// ```no_run
/// # let log = std::path::Path::new("/tmp/extension.log");
/// assert!(faas_checks::files::wait_for_file(log, "SHUTDOWN"));
/// ```
pub fn wait_for_file(path: &Path, needle: &str) -> bool {
    wait_until(path, |text| text.contains(needle))
}
