//! `_X_AMZN_TRACE_ID`: the X-Ray trace header of the invocation in flight, exported to the
//! environment as Lambda's own runtimes do (the X-Ray SDKs read it there).
//!
//! `setenv` copies the value, and glibc never frees the copy it replaces: one `set_var` per
//! invocation grows the heap by the value's size for the life of the process (about 140 bytes
//! an invocation, 14 MB after 100,000, as `make soak` showed). So the variable points
//! (`putenv`) at one buffer this module owns and rewrites in place; only a value too long for
//! the buffer falls back to `set_var`.

use std::ffi::c_char;

pub(crate) const NAME: &str = "_X_AMZN_TRACE_ID";
/// Room for `NAME=value\0`; X-Ray headers are under 200 bytes.
const CAPACITY: usize = 512;

/// The exported trace id, rewritten in place for each invocation.
pub(crate) struct TraceEnv {
    /// `NAME=value\0`, leaked once: `environ` may point here for the life of the process.
    buffer: &'static mut [u8; CAPACITY],
    /// Whether `environ` points at `buffer` now.
    exported: bool,
}

impl TraceEnv {
    pub(crate) fn new() -> Self {
        Self {
            buffer: Box::leak(Box::new([0; CAPACITY])),
            exported: false,
        }
    }

    /// Exports `trace_id` for the invocation about to run; `None` removes the variable.
    pub(crate) fn set(&mut self, trace_id: Option<&str>) {
        let Some(id) = trace_id else {
            return self.remove();
        };
        let len = NAME.len() + 1 + id.len();
        if len >= CAPACITY || id.contains('\0') {
            self.remove();
            // SAFETY: the runtime is single-threaded (a current-thread tokio runtime) and this
            // runs between invocations, so no other thread reads the environment now.
            unsafe { std::env::set_var(NAME, id) };
            return;
        }
        self.buffer[..NAME.len()].copy_from_slice(NAME.as_bytes());
        self.buffer[NAME.len()] = b'=';
        self.buffer[NAME.len() + 1..len].copy_from_slice(id.as_bytes());
        self.buffer[len] = 0;
        if !self.exported {
            // SAFETY: `buffer` is NUL-terminated `NAME=value` and lives for the rest of the
            // process (leaked); single-threaded as above.
            unsafe { libc::putenv(self.buffer.as_mut_ptr().cast::<c_char>()) };
            self.exported = true;
        }
    }

    fn remove(&mut self) {
        // SAFETY: single-threaded as above; unsetenv only drops the pointer to `buffer`.
        unsafe { std::env::remove_var(NAME) };
        self.exported = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_follows_every_invocation() {
        let mut env = TraceEnv::new();
        for i in 0..1000 {
            let id = format!("Root=1-{i:08x}-abc;Parent=1;Sampled=0");
            env.set(Some(&id));
            assert_eq!(std::env::var(NAME).as_deref(), Ok(id.as_str()));
        }
        env.set(None);
        assert!(std::env::var(NAME).is_err());
        let long = "x".repeat(CAPACITY);
        env.set(Some(&long));
        assert_eq!(std::env::var(NAME).as_deref(), Ok(long.as_str()));
        env.set(Some("short"));
        assert_eq!(std::env::var(NAME).as_deref(), Ok("short"));
        env.set(None);
        assert!(std::env::var(NAME).is_err());
    }
}
