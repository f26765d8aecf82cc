//! One function process as the emulator sees it: the invocation queue, the invocation in
//! flight, and the runtime's [`RuntimeState`]. The Runtime API server, the invoke endpoint and
//! the supervisor each hold an `Arc<Sandbox>` and meet only here.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper::body::Bytes;
use tokio::sync::{Notify, Semaphore, SemaphorePermit, mpsc, oneshot};

use super::http::error_body;
use super::state::{Call, InvalidTransition, RuntimeState};
use crate::protocol::error_type;

/// How many invokes may wait for the one in flight before new ones get 429.
const MAX_WAITING: usize = 64;

/// An event on its way to the runtime.
pub(crate) struct Invocation {
    pub id: String,
    pub body: Bytes,
    pub deadline_ms: u64,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub identity: Option<String>,
    outcome: oneshot::Sender<Outcome>,
}

/// How an invocation ended, as the caller will see it.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The function's response.
    Response(Bytes),
    /// A function error (the runtime's `/error` body) or one the emulator made (timeout, exit).
    Error(Bytes),
}

/// A Runtime API call that cannot be accepted.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// 403: the runtime's state does not allow the call.
    State(InvalidTransition),
    /// 400: the request id is not the invocation in flight.
    UnknownRequestId,
    /// The process that asked has been replaced; nobody is listening for the answer.
    Replaced,
}

/// Why an invocation was not queued.
pub(crate) enum Busy {
    TooManyWaiting,
}

struct Inner {
    state: RuntimeState,
    /// The invocation handed to the runtime and its caller's channel.
    in_flight: Option<(String, oneshot::Sender<Outcome>)>,
    /// The function process, for memory figures and for the supervisor.
    pid: Option<u32>,
    started: Instant,
    /// Set at the first `/next` of a process; reported once, with the next invocation.
    init_duration: Option<Duration>,
    /// The body of `/init/error`, answered to callers once the failed process has exited.
    init_error: Option<Bytes>,
}

/// The shared state of one emulated function.
pub(crate) struct Sandbox {
    pub timeout: Duration,
    pub function_arn: String,
    pub memory_size_mb: u32,
    inner: Mutex<Inner>,
    queue: mpsc::UnboundedSender<Invocation>,
    queued: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    /// One invocation at a time per process.
    slot: Semaphore,
    waiting: AtomicUsize,
    /// Wakes the supervisor when an invocation timed out: the process must be replaced.
    pub timed_out: Notify,
    /// Wakes the `/next` calls of a process that has exited, so they leave the queue to the
    /// next process instead of taking an event to a dead connection.
    replaced: Notify,
}

impl Sandbox {
    pub fn new(timeout: Duration, function_arn: String, memory_size_mb: u32) -> Self {
        let (queue, queued) = mpsc::unbounded_channel();
        Self {
            timeout,
            function_arn,
            memory_size_mb,
            inner: Mutex::new(Inner {
                state: RuntimeState::Started,
                in_flight: None,
                pid: None,
                started: Instant::now(),
                init_duration: None,
                init_error: None,
            }),
            queue,
            queued: tokio::sync::Mutex::new(queued),
            slot: Semaphore::new(1),
            waiting: AtomicUsize::new(0),
            timed_out: Notify::new(),
            replaced: Notify::new(),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ---- the invoke endpoint's side ----

    /// Waits for this process's one invocation slot, or refuses when too many already wait.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, Busy> {
        if let Ok(permit) = self.slot.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy::TooManyWaiting);
        }
        let permit = self.slot.acquire().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        permit.map_err(|_| Busy::TooManyWaiting)
    }

    /// Queues an event for the runtime; the receiver yields its outcome.
    pub fn enqueue(
        &self,
        body: Bytes,
        trace_id: Option<String>,
        client_context: Option<String>,
        identity: Option<String>,
    ) -> (String, oneshot::Receiver<Outcome>) {
        let (outcome, receiver) = oneshot::channel();
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let id = request_id();
        let invocation = Invocation {
            id: id.clone(),
            body,
            deadline_ms: now_ms + self.timeout.as_millis() as u64,
            trace_id: trace_id.unwrap_or_else(new_trace_id),
            client_context,
            identity,
            outcome,
        };
        // The receiver lives as long as the sandbox, so sending cannot fail.
        let _ = self.queue.send(invocation);
        (id, receiver)
    }

    /// The invocation `id` ran out of time: forget it and have the supervisor replace the
    /// process, as Lambda does.
    pub fn time_out(&self, id: &str) {
        let mut inner = self.inner();
        if inner
            .in_flight
            .as_ref()
            .is_some_and(|(current, _)| current == id)
        {
            inner.in_flight = None;
        }
        drop(inner);
        self.timed_out.notify_waiters();
    }

    /// Init duration to report with this invocation (once per process), and the peak memory.
    pub fn report_figures(&self) -> (Option<Duration>, Option<u64>) {
        let mut inner = self.inner();
        (
            inner.init_duration.take(),
            inner.pid.and_then(max_memory_kib),
        )
    }

    // ---- the Runtime API's side ----

    /// `/next`: waits for an event and hands it to the runtime.
    pub async fn next(&self) -> Result<Invocation, Refusal> {
        {
            let mut inner = self.inner();
            let state = inner.state.after(Call::Next).map_err(Refusal::State)?;
            if inner.state == RuntimeState::Started {
                inner.init_duration = Some(inner.started.elapsed());
            }
            inner.state = state;
        }
        let replaced = self.replaced.notified();
        tokio::pin!(replaced);
        replaced.as_mut().enable();
        let mut queued = tokio::select! {
            queued = self.queued.lock() => queued,
            () = replaced.as_mut() => return Err(Refusal::Replaced),
        };
        loop {
            let received = tokio::select! {
                received = queued.recv() => received,
                () = replaced.as_mut() => return Err(Refusal::Replaced),
            };
            let Some(mut invocation) = received else {
                return Err(Refusal::Replaced);
            };
            // Its caller timed out while it waited in the queue.
            if invocation.outcome.is_closed() {
                continue;
            }
            let mut inner = self.inner();
            match inner.state.after(Call::Dispatch) {
                Ok(state) => inner.state = state,
                Err(e) => return Err(Refusal::State(e)),
            }
            let (outcome, _) = oneshot::channel();
            let outcome = std::mem::replace(&mut invocation.outcome, outcome);
            inner.in_flight = Some((invocation.id.clone(), outcome));
            return Ok(invocation);
        }
    }

    /// `/response` and `/error`: checks the call is allowed for `id` before its body is read.
    pub fn check_answer(&self, id: &str, call: Call) -> Result<(), Refusal> {
        let inner = self.inner();
        inner.state.after(call).map_err(Refusal::State)?;
        match &inner.in_flight {
            Some((current, _)) if current == id => Ok(()),
            // Answering an invocation the emulator already gave up on (timed out) is a 400, as
            // for an id it never issued.
            _ => Err(Refusal::UnknownRequestId),
        }
    }

    /// Completes the invocation in flight with `outcome`.
    pub fn answer(&self, id: &str, call: Call, outcome: Outcome) -> Result<(), Refusal> {
        let mut inner = self.inner();
        let state = inner.state.after(call).map_err(Refusal::State)?;
        match inner.in_flight.take() {
            Some((current, sender)) if current == id => {
                inner.state = state;
                // The caller may have gone away; the answer is then dropped, as in Lambda.
                let _ = sender.send(outcome);
                Ok(())
            }
            other => {
                inner.in_flight = other;
                Err(Refusal::UnknownRequestId)
            }
        }
    }

    /// `/init/error`.
    pub fn init_error(&self, body: Bytes) -> Result<(), Refusal> {
        let mut inner = self.inner();
        inner.state = inner.state.after(Call::InitError).map_err(Refusal::State)?;
        inner.init_error = Some(body);
        Ok(())
    }

    // ---- the supervisor's side ----

    /// A new function process `pid` started.
    pub fn runtime_started(&self, pid: Option<u32>) {
        let mut inner = self.inner();
        inner.state = RuntimeState::Started;
        inner.pid = pid;
        inner.started = Instant::now();
        inner.init_duration = None;
    }

    /// The function process ended (`how` says how): its invocation fails with
    /// `Runtime.ExitError`. A process that never reached `/next` failed to initialize: the
    /// waiting callers get its `/init/error` body, or a `Runtime.ExitError` naming the exit, so
    /// nobody waits for the timeout. Returns whether init failed.
    pub fn runtime_exited(&self, how: &str) -> bool {
        let (in_flight, init_error, never_ready) = {
            let mut inner = self.inner();
            inner.pid = None;
            let never_ready =
                matches!(inner.state, RuntimeState::Started | RuntimeState::InitError);
            (inner.in_flight.take(), inner.init_error.take(), never_ready)
        };
        self.replaced.notify_waiters();
        if let Some((id, sender)) = in_flight {
            let message = format!("RequestId: {id} Error: Runtime exited with error: {how}");
            let _ = sender.send(Outcome::Error(
                error_body(error_type::EXIT, &message).into(),
            ));
        }
        if !never_ready {
            return false;
        }
        let failure = init_error.unwrap_or_else(|| {
            let message = format!("Runtime exited during init with error: {how}");
            error_body(error_type::EXIT, &message).into()
        });
        if let Ok(mut queued) = self.queued.try_lock() {
            while let Ok(invocation) = queued.try_recv() {
                let _ = invocation.outcome.send(Outcome::Error(failure.clone()));
            }
        }
        true
    }
}

/// Peak resident memory (`VmHWM`) of `pid`, in KiB.
fn max_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// 64 random bits; std's `RandomState` is seeded from the OS, which is all an id needs.
fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish()
}

/// A version-4 UUID, as Lambda's request ids.
fn request_id() -> String {
    let (a, b) = (random_u64(), random_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// An X-Ray trace header for an invoke that brought none.
fn new_trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    format!(
        "Root=1-{secs:08x}-{:016x}{:08x};Parent={:016x};Sampled=0",
        random_u64(),
        random_u64() as u32,
        random_u64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_v4() {
        let id = request_id();
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, request_id());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_event_goes_to_next_and_its_answer_to_the_caller() {
        let sandbox = Sandbox::new(Duration::from_secs(3), "arn".into(), 128);
        sandbox.runtime_started(None);
        let (id, outcome) = sandbox.enqueue(Bytes::from_static(b"{}"), None, None, None);
        let invocation = sandbox.next().await.unwrap();
        assert_eq!(invocation.id, id);
        assert!(matches!(
            sandbox.check_answer("other", Call::Response),
            Err(Refusal::UnknownRequestId)
        ));
        sandbox
            .answer(
                &id,
                Call::Response,
                Outcome::Response(Bytes::from_static(b"1")),
            )
            .unwrap();
        assert!(matches!(outcome.await, Ok(Outcome::Response(b)) if &b[..] == b"1"));
        assert!(matches!(
            sandbox.check_answer(&id, Call::Response),
            Err(Refusal::State(_))
        ));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_crash_fails_the_invocation_in_flight() {
        let sandbox = Sandbox::new(Duration::from_secs(3), "arn".into(), 128);
        let (_, outcome) = sandbox.enqueue(Bytes::new(), None, None, None);
        sandbox.next().await.unwrap();
        assert!(!sandbox.runtime_exited("signal: 9"), "it had reached /next");
        let Ok(Outcome::Error(body)) = outcome.await else {
            panic!("no error")
        };
        assert!(String::from_utf8_lossy(&body).contains("Runtime.ExitError"));
    }
}
