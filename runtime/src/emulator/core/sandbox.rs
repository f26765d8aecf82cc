//! One function process as the emulator sees it, and the life of every invocation in it:
//! admission to the queue, the turn (one invocation at a time, or N under Lambda Managed
//! Instances), dispatch to `/next`, the deadline, the answer and the `REPORT` line. The Runtime API server, the invoke endpoint and
//! the supervisor each hold an `Arc<Sandbox>` and meet only here.
//!
//! Every resource an invocation holds is a guard (its [`Ticket`], its turn permit, its share
//! of the buffer budget), so a caller that hangs up at any point releases exactly what it held,
//! and the invocation itself lives in the sandbox: its deadline applies whatever the caller does.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper::body::Bytes;
use hyper::header::HeaderValue;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use super::extensions::PostInvoke as ExtensionsPhase;
use super::lifecycle::{Figures, Lifecycle, Phase, Subscriber, peak_memory_kib};
use super::state::{Call, InvalidTransition, RuntimeState};
use crate::emulator::limits::EXTENSION_CRASH;
use crate::emulator::wire::error_body;
use crate::protocol::error_type;

/// What the caller sent, on its way to the runtime.
pub(crate) struct Event {
    pub body: Bytes,
    /// The caller's `X-Amzn-Trace-Id`, forwarded byte for byte; one is made when absent.
    pub trace_id: Option<HeaderValue>,
    pub client_context: Option<HeaderValue>,
    pub identity: Option<HeaderValue>,
    /// The body's share of the buffer budget, released once the runtime has it.
    pub held: Option<OwnedSemaphorePermit>,
}

/// An event handed to the runtime by `/next`.
pub(crate) struct Invocation {
    pub id: String,
    pub deadline_ms: u64,
    pub trace_id: HeaderValue,
    pub body: Bytes,
    pub client_context: Option<HeaderValue>,
    pub identity: Option<HeaderValue>,
}

/// A response body on its way to the caller.
#[derive(Debug)]
pub(crate) enum Payload {
    /// The whole body.
    Buffered(Bytes),
    /// A streamed response, forwarded chunk by chunk as the runtime posts it.
    Stream(Streamed),
}

/// The caller's end of a streamed response: the chunks as they come, then how it ended.
#[derive(Debug)]
pub(crate) struct Streamed {
    /// Chunks in order; closed when the runtime's body ended (or broke).
    pub data: mpsc::Receiver<Bytes>,
    /// `None` for a stream that ended well, or the error body (JSON) that ended it: one from
    /// the function's trailers, a panic posted to `/error` mid-stream, a timeout, the limit.
    pub end: oneshot::Receiver<Option<Bytes>>,
    /// The `Content-Type` the runtime posted the stream with: the caller's to see.
    pub content_type: HeaderValue,
}

/// The runtime's end of a streamed response.
pub(crate) struct StreamSink {
    /// Where its chunks go to the caller; a send fails once the caller has gone.
    pub chunks: mpsc::Sender<Bytes>,
    /// Resolves (with an error) once the invocation is over, however it ended: from then on
    /// the caller is owed nothing more and must not hold the function's side.
    pub over: oneshot::Receiver<()>,
}

/// Chunks buffered between the runtime's stream and its caller: backpressure past these.
const STREAM_BUFFER: usize = 4;

/// How an invocation ended, as the caller will see it.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The function's response.
    Response(Payload),
    /// A function error (the runtime's `/error` body) or one the emulator made (timeout, exit).
    Error(Bytes),
    /// Not run: the emulator is stopping (503).
    Unavailable(&'static str),
}

impl Outcome {
    fn error(error_type: &str, message: &str) -> Self {
        Outcome::Error(error_body(error_type, message).into())
    }
}

/// A Runtime API call that cannot be accepted.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// 403: the runtime's state does not allow the call.
    State(InvalidTransition),
    /// 403: a newer `/next` took this one's place (the runtime reconnected, or polls twice).
    Superseded,
    /// 403: Managed Instances: this many `/next` calls (the concurrency) already wait.
    TooManyPolls(usize),
    /// 400: the request id is not the invocation in flight.
    UnknownRequestId,
    /// 410: the process that asked has been replaced; nobody is listening for the answer.
    Replaced,
}

/// Why an invocation was not admitted.
#[derive(Debug)]
pub(crate) enum Busy {
    /// 429: the queue is full.
    TooManyWaiting,
    /// 503: the emulator is stopping.
    Stopping,
}

/// The message every caller the emulator could not serve because it stops gets.
pub(crate) const STOPPING: &str = "the emulator is shutting down; the invocation did not run";

/// Lambda's limit on the init phase of an on-demand environment (10 s): past it the init is
/// abandoned and retried inside the first invocation, under the function's timeout (the
/// "suppressed init"). Also how long an invocation may wait for a process to become ready, on
/// top of its own timeout, before it times out undispatched.
pub(crate) const INIT_LIMIT: Duration = Duration::from_secs(10);

/// An invocation that has its turn: waiting for a `/next`, or dispatched and owed an answer.
struct Current {
    id: String,
    /// When the runtime took it (`/next`): its timeout runs from here, so a restart and an
    /// init before it are not charged to it. Until then, when its caller got the turn.
    started: Instant,
    /// Dispatch + the timeout; before dispatch, the turn + [`INIT_LIMIT`] + the timeout.
    deadline: tokio::time::Instant,
    deadline_ms: u64,
    /// Taken by `/next`; `None` once dispatched.
    event: Option<Event>,
    dispatched: bool,
    /// `None` once the caller has its answer: a stream's, before the invocation ends.
    caller: Option<oneshot::Sender<Outcome>>,
    /// How a streamed response ends, once it started.
    stream_end: Option<oneshot::Sender<Option<Bytes>>>,
    /// Dropped with the invocation: tells the task forwarding its stream that the invocation
    /// is over, so a caller that stopped reading holds nothing on the function's side.
    _over: Option<oneshot::Sender<()>>,
    /// One of the sandbox's turns, released when the invocation ends.
    _turn: OwnedSemaphorePermit,
}

struct Inner {
    state: RuntimeState,
    /// The invocations that have a turn, in the order they got it (at most `slots`): the
    /// oldest undispatched one goes to the next `/next`.
    flight: Vec<Current>,
    /// Number of the newest `/next` call; an older one still waiting leaves (one slot only).
    poll: u64,
    /// `/next` calls waiting now (Managed Instances: at most `slots`).
    polls_waiting: usize,
    /// Number of the function process; `/next` calls of an older one leave.
    process: u64,
    pid: Option<u32>,
    started: Instant,
    /// Set at the first `/next` of a process; reported once, with the next invocation.
    init_duration: Option<Duration>,
    /// The body of `/init/error`, answered to callers once the failed process has exited.
    init_error: Option<Bytes>,
    /// Tickets numbered below this were waiting when init failed: they get `failed_init`.
    fail_before: u64,
    failed_init: Option<Bytes>,
    stopping: bool,
    /// Set when a stopping process did not exit on SIGTERM: its `/next` is refused (410).
    polls_refused: bool,
    /// Answered invocations whose INVOKE extensions have not all called `next` again: at
    /// most one for classic Lambda, up to `slots` under Managed Instances.
    post_invoke: Vec<PostInvoke>,
    /// The environment's init phase is over: its runtime waited in `/next` with every
    /// extension in `next` (or took an event). Until then an extension's exit fails the init.
    initialized: bool,
    /// This process's init runs inside its first invocation (an earlier init passed the init
    /// limit): that invocation's timeout covers the init, its `REPORT` has no Init Duration.
    suppressed: bool,
    /// The last init passed the limit: the next process's init is a suppressed one.
    retry_init: bool,
}

/// An invocation in Lambda's post-invoke phase: what its `End` event will carry.
struct PostInvoke {
    id: String,
    started: Instant,
    answered: Instant,
    init: Option<Duration>,
    error: Option<Bytes>,
}

impl Inner {
    /// Where the dispatched invocation `id` is in [`Inner::flight`].
    fn dispatched(&self, id: &str) -> Option<usize> {
        self.flight.iter().position(|c| c.dispatched && c.id == id)
    }
}

/// The shared state of one emulated function.
///
/// One process, and `slots` invocations in flight at once: one for classic Lambda, N under
/// Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY`). The turns are a semaphore of
/// `slots` permits, the invocations holding one a short list keyed by request id.
pub(crate) struct Sandbox {
    pub timeout: Duration,
    /// The init phase's limit ([`INIT_LIMIT`]; shorter in tests).
    pub init_limit: Duration,
    pub function_arn: String,
    pub memory_size_mb: u32,
    max_waiting: usize,
    /// Invocations in flight at once ([`Sandbox::concurrent`]); 1 for classic Lambda.
    slots: usize,
    /// Largest streamed response ([`super::Limits::max_stream_bytes`]).
    pub max_stream_bytes: usize,
    /// Bytes of events buffered at once, across all callers (permits are bytes).
    pub budget: Arc<Semaphore>,
    inner: Mutex<Inner>,
    /// `slots` invocations at a time per process; FIFO, so callers keep their order.
    turn: Arc<Semaphore>,
    /// Callers admitted and not yet given their turn.
    waiting: AtomicUsize,
    tickets: AtomicU64,
    /// Wakes `/next` calls: an invocation is ready, a newer poll came, the process changed.
    work: Notify,
    /// Wakes the deadline watch: an invocation started or ended.
    deadline_changed: Notify,
    /// Told of every invocation's start and end ([`Sandbox::subscribe`]).
    subscribers: Vec<Subscriber>,
    /// The Extensions API's registry: INVOKE events go out as the runtime takes each event.
    pub extensions: super::extensions::Extensions,
}

/// A caller's place in the queue: holding it counts against the queue's length, dropping it
/// (at any point, e.g. when the caller hangs up) gives the place back.
pub(crate) struct Ticket {
    sandbox: Arc<Sandbox>,
    number: u64,
    counted: bool,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.counted {
            self.sandbox.waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Ticket {
    /// Waits for this caller's turn, runs `event` and returns how it ended. Dropping the future
    /// cancels nothing that ran: an invocation that started ends in the sandbox, on time.
    pub async fn invoke(mut self, event: Event) -> Outcome {
        let sandbox = Arc::clone(&self.sandbox);
        let Ok(turn) = Arc::clone(&sandbox.turn).acquire_owned().await else {
            return Outcome::Unavailable(STOPPING);
        };
        self.counted = false;
        sandbox.waiting.fetch_sub(1, Ordering::SeqCst);
        let (caller, outcome) = oneshot::channel();
        {
            let mut inner = sandbox.inner();
            if inner.stopping {
                return Outcome::Unavailable(STOPPING);
            }
            if self.number < inner.fail_before {
                if let Some(failure) = inner.failed_init.clone() {
                    return Outcome::Error(failure);
                }
            }
            // A suppressed init runs inside this invocation: its timeout covers the init.
            let wait = if inner.suppressed || inner.retry_init {
                sandbox.timeout
            } else {
                sandbox.init_limit + sandbox.timeout
            };
            inner.flight.push(Current {
                id: request_id(),
                started: Instant::now(),
                deadline: tokio::time::Instant::now() + wait,
                deadline_ms: 0,
                event: Some(event),
                dispatched: false,
                caller: Some(caller),
                stream_end: None,
                _over: None,
                _turn: turn,
            });
        }
        sandbox.work.notify_waiters();
        sandbox.deadline_changed.notify_waiters();
        outcome.await.unwrap_or_else(|_| {
            Outcome::error(error_type::EXIT, "the emulator dropped the invocation")
        })
    }
}

/// A `/next` call waiting, counted while it waits (dropped when it returns or its connection
/// goes), so that no more than `slots` wait at once.
struct Polling<'a>(&'a Sandbox);

impl Drop for Polling<'_> {
    fn drop(&mut self) {
        let mut inner = self.0.inner();
        inner.polls_waiting = inner.polls_waiting.saturating_sub(1);
    }
}

impl Sandbox {
    pub fn new(
        timeout: Duration,
        function_arn: String,
        memory_size_mb: u32,
        max_waiting: usize,
        max_buffered: usize,
    ) -> Self {
        Self {
            timeout,
            init_limit: INIT_LIMIT,
            function_arn,
            memory_size_mb,
            max_waiting,
            slots: 1,
            max_stream_bytes: crate::emulator::limits::MAX_STREAMED_RESPONSE,
            budget: Arc::new(Semaphore::new(
                max_buffered.max(crate::protocol::MAX_PAYLOAD),
            )),
            inner: Mutex::new(Inner {
                state: RuntimeState::Started,
                flight: Vec::with_capacity(1),
                poll: 0,
                polls_waiting: 0,
                process: 0,
                pid: None,
                started: Instant::now(),
                init_duration: None,
                init_error: None,
                fail_before: 0,
                failed_init: None,
                stopping: false,
                polls_refused: false,
                post_invoke: Vec::new(),
                initialized: false,
                suppressed: false,
                retry_init: false,
            }),
            turn: Arc::new(Semaphore::new(1)),
            waiting: AtomicUsize::new(0),
            tickets: AtomicU64::new(0),
            work: Notify::new(),
            deadline_changed: Notify::new(),
            subscribers: Vec::new(),
            extensions: super::extensions::Extensions::default(),
        }
    }

    /// Lambda Managed Instances: up to `slots` invocations in flight at once, each dispatched
    /// to its own `/next` and answered by its request id. A timed-out invocation fails alone
    /// and the process keeps running, as on Managed Instances; a crash fails every invocation
    /// in flight. `slots` of 1 (or 0) is classic Lambda, unchanged.
    pub fn concurrent(mut self, slots: usize) -> Self {
        let slots = slots.max(1);
        self.slots = slots;
        self.turn = Arc::new(Semaphore::new(slots));
        self.inner().flight = Vec::with_capacity(slots);
        self
    }

    /// Whether invocations run concurrently (Managed Instances).
    fn is_concurrent(&self) -> bool {
        self.slots > 1
    }

    /// The state after `call`, by classic Lambda's rules or Managed Instances'.
    fn transition(&self, state: RuntimeState, call: Call) -> Result<RuntimeState, Refusal> {
        if self.is_concurrent() {
            state.after_concurrent(call)
        } else {
            state.after(call)
        }
        .map_err(Refusal::State)
    }

    /// Calls `subscriber` with every lifecycle event from now on.
    pub fn subscribe(&mut self, subscriber: Subscriber) {
        self.subscribers.push(subscriber);
    }

    fn emit(&self, event: &Lifecycle<'_>) {
        for subscriber in &self.subscribers {
            subscriber(event);
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ---- the invoke endpoint's side ----

    /// A place in the queue, before the caller's body is read; refused when the queue is full
    /// or the emulator stops.
    pub fn admit(self: &Arc<Self>) -> Result<Ticket, Busy> {
        if self.inner().stopping {
            return Err(Busy::Stopping);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy::TooManyWaiting);
        }
        Ok(Ticket {
            sandbox: Arc::clone(self),
            number: self.tickets.fetch_add(1, Ordering::SeqCst),
            counted: true,
        })
    }

    /// Ends the invocation at `index` of the flight with `outcome`: the `REPORT` line if it
    /// ran, the answer to its caller (who may have gone), and its turn to the next caller.
    fn finish(&self, inner: &mut Inner, index: usize, outcome: Outcome) {
        if index >= inner.flight.len() {
            return;
        }
        let current = inner.flight.remove(index);
        if current.dispatched {
            let error = match &outcome {
                Outcome::Error(body) => Some(body.clone()),
                _ => None,
            };
            self.emit(&Lifecycle::RuntimeDone {
                request_id: &current.id,
                duration: current.started.elapsed(),
                error: error.as_deref(),
                produced_bytes: match &outcome {
                    Outcome::Response(Payload::Buffered(body)) => Some(body.len()),
                    _ => None,
                },
            });
            if !self.is_concurrent() {
                // Classic Lambda: the previous invocation's post-invoke phase is over.
                self.end_post_invoke(inner, true);
            }
            inner.post_invoke.push(PostInvoke {
                id: current.id.clone(),
                started: current.started,
                answered: Instant::now(),
                init: inner.init_duration.take(),
                error,
            });
            self.end_post_invoke(inner, false);
        }
        match (current.stream_end, current.caller) {
            // A streamed response ends in its own channel: an error (a panic posted to
            // `/error` mid-stream, the timeout) or nothing for a stream that ended well.
            (Some(end), _) => {
                let _ = end.send(match outcome {
                    Outcome::Error(body) => Some(body),
                    _ => None,
                });
            }
            (None, Some(caller)) => {
                let _ = caller.send(outcome);
            }
            (None, None) => {}
        }
        self.deadline_changed.notify_waiters();
    }

    /// Ends each post-invoke phase that is over, or all now with `force` (the process is
    /// gone): the `End` event (`REPORT`) of each.
    ///
    /// Classic Lambda: over once every extension waits in `next` again (at the last one's
    /// call). Managed Instances: per invocation, once every extension registered for INVOKE has
    /// called `next` after the one that handed it this invocation's event
    /// ([`super::extensions::Extensions::post_invoke`]), whatever the others in flight do.
    /// AWS's page on the Managed Instances execution environment
    /// (docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-execution-environment.html)
    /// says the init phase is "complete when extensions have initialized and at least one
    /// runtime worker has called /runtime/invocation/next", that "multiple invocations can
    /// execute simultaneously" and that timeouts are per invocation; it does not say how INVOKE
    /// events and the post-invoke phase work under multi-concurrency (searched 2026-11-30).
    /// We apply the classic rule per invocation, so no invocation waits for another's
    /// extensions and none is reported before its extensions let it go.
    fn end_post_invoke(&self, inner: &mut Inner, force: bool) {
        let mut index = 0;
        while index < inner.post_invoke.len() {
            let post = &inner.post_invoke[index];
            let end = if self.is_concurrent() {
                match self.extensions.post_invoke(&post.id) {
                    ExtensionsPhase::Over(at) => {
                        Some(at.map_or(post.answered, |at| at.max(post.answered)))
                    }
                    ExtensionsPhase::Held if force => Some(Instant::now()),
                    ExtensionsPhase::Held => None,
                }
            } else if self.extensions.ready() {
                Some(
                    self.extensions
                        .last_next()
                        .map_or(post.answered, |at| at.max(post.answered)),
                )
            } else if force {
                Some(Instant::now())
            } else {
                None
            };
            let Some(end) = end else {
                index += 1;
                continue;
            };
            let post = inner.post_invoke.remove(index);
            // Nothing waits for it any more (classic Lambda never asks, a forced end did not).
            self.extensions.forget(&post.id);
            self.end_one(inner, post, end);
        }
    }

    /// The `End` event of an invocation whose post-invoke phase ended at `end`.
    fn end_one(&self, inner: &Inner, post: PostInvoke, end: Instant) {
        self.emit(&Lifecycle::End {
            request_id: &post.id,
            figures: Figures::new(
                end.saturating_duration_since(post.started),
                self.memory_size_mb,
                inner.pid.and_then(peak_memory_kib),
                post.init,
            ),
            error: post.error.as_deref(),
        });
    }

    /// Watches the deadlines: an invocation past its own gets `Sandbox.Timedout`. Classic
    /// Lambda then replaces the process, so this resolves for the supervisor to do so. Under
    /// Managed Instances the other invocations run on and the process is kept (Lambda does not
    /// stop a timed-out handler there either): this resolves only when an invocation waited
    /// out its deadline for a process that never finished its init. While it waits, it ends
    /// post-invoke phases as the extensions call `next`.
    pub async fn overdue(&self) {
        loop {
            let changed = self.deadline_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            // An extension's `next` may end a post-invoke phase: its REPORT goes out then,
            // whether or not the runtime is polling.
            let extensions = self.extensions.changed.notified();
            tokio::pin!(extensions);
            extensions.as_mut().enable();
            let deadline = {
                let mut inner = self.inner();
                self.end_post_invoke(&mut inner, false);
                inner.flight.iter().map(|c| c.deadline).min()
            };
            let Some(deadline) = deadline else {
                tokio::select! {
                    () = changed => {}
                    () = extensions => {}
                }
                continue;
            };
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {}
                () = changed.as_mut() => continue,
                () = extensions.as_mut() => continue,
            }
            let mut inner = self.inner();
            let now = tokio::time::Instant::now();
            let mut replace = false;
            while let Some(index) = inner.flight.iter().position(|c| c.deadline <= now) {
                let current = &inner.flight[index];
                replace |= !self.is_concurrent()
                    || (!current.dispatched && inner.state == RuntimeState::Started);
                let message = format!(
                    "RequestId: {} Error: Task timed out after {}.00 seconds",
                    current.id,
                    self.timeout.as_secs()
                );
                self.finish(
                    &mut inner,
                    index,
                    Outcome::error(error_type::TIMEOUT, &message),
                );
            }
            if replace {
                return;
            }
        }
    }

    // ---- the Runtime API's side ----

    /// `/next`: waits for an event and hands it to the runtime. With one slot only the newest
    /// `/next` waits (a newer one supersedes it); under Managed Instances up to `slots` wait
    /// and one more is refused. An event is taken by exactly one call, under the lock, so none
    /// is lost.
    pub async fn next(&self) -> Result<Invocation, Refusal> {
        let (poll, process) = {
            let mut inner = self.inner();
            let state = self.transition(inner.state, Call::Next)?;
            if self.is_concurrent() && inner.polls_waiting >= self.slots {
                return Err(Refusal::TooManyPolls(self.slots));
            }
            if inner.state == RuntimeState::Started {
                // A suppressed init is billed in its invocation's Duration instead.
                inner.init_duration = (!inner.suppressed).then(|| inner.started.elapsed());
                self.emit(&Lifecycle::InitDone {
                    duration: inner.started.elapsed(),
                    error: None,
                    phase: phase_of(&inner),
                });
                // This process initialized: callers are no longer told of an older failure.
                inner.failed_init = None;
            }
            inner.state = state;
            inner.poll += 1;
            inner.polls_waiting += 1;
            (inner.poll, inner.process)
        };
        let _polling = Polling(self);
        // An older `/next` still waiting leaves now (one slot), or another may take an event.
        self.work.notify_waiters();
        loop {
            let work = self.work.notified();
            tokio::pin!(work);
            work.as_mut().enable();
            let extensions = self.extensions.changed.notified();
            tokio::pin!(extensions);
            extensions.as_mut().enable();
            {
                let mut inner = self.inner();
                if inner.process != process || inner.polls_refused {
                    return Err(Refusal::Replaced);
                }
                if !self.is_concurrent() && inner.poll != poll {
                    return Err(Refusal::Superseded);
                }
                self.end_post_invoke(&mut inner, false);
                let extensions_ready = self.extensions.ready();
                // The runtime and every extension wait for an event: the init phase is over.
                inner.initialized |= extensions_ready;
                // Classic Lambda: an event waits for every extension to be in `next` (init,
                // post-invoke). Managed Instances: only for the init; then up to `slots` go
                // out at once, each INVOKE queued for every extension registered for it.
                let may_dispatch = extensions_ready || (self.is_concurrent() && inner.initialized);
                let ready = inner.flight.iter().position(|c| !c.dispatched);
                if let Some(index) = ready.filter(|_| may_dispatch) {
                    if inner.flight[index]
                        .caller
                        .as_ref()
                        .is_none_or(|c| c.is_closed())
                    {
                        // Its caller hung up before it started: nothing to run.
                        inner.flight.remove(index);
                        self.deadline_changed.notify_waiters();
                        continue;
                    }
                    inner.state = self.transition(inner.state, Call::Dispatch)?;
                    return Ok(self.dispatch(&mut inner, index));
                }
            }
            tokio::select! {
                () = work => {}
                () = extensions => {}
            }
        }
    }

    /// Hands the undispatched invocation at `index` to the runtime: its timeout starts now,
    /// with a ready process; `START` and the extensions' INVOKE go out.
    fn dispatch(&self, inner: &mut Inner, index: usize) -> Invocation {
        // The first invocation of a suppressed init keeps the clock it started at the init.
        let suppressed = std::mem::take(&mut inner.suppressed);
        let current = &mut inner.flight[index];
        let event = current.event.take();
        current.dispatched = true;
        if !suppressed {
            current.started = Instant::now();
            current.deadline = tokio::time::Instant::now() + self.timeout;
        }
        let left = current
            .deadline
            .saturating_duration_since(tokio::time::Instant::now());
        current.deadline_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64
            + left.as_millis() as u64;
        let id = current.id.clone();
        let deadline_ms = current.deadline_ms;
        // The runtime has the body now: its budget goes to the next caller.
        let (body, trace_id, client_context, identity) = match event {
            Some(event) => {
                drop(event.held);
                (
                    event.body,
                    event.trace_id,
                    event.client_context,
                    event.identity,
                )
            }
            None => (Bytes::new(), None, None, None),
        };
        self.deadline_changed.notify_waiters();
        let trace_id = trace_id.unwrap_or_else(new_trace_id);
        self.emit(&Lifecycle::Start {
            request_id: &id,
            trace_id: &String::from_utf8_lossy(trace_id.as_bytes()),
        });
        self.extensions.close_registration();
        self.extensions.invoke(
            &id,
            deadline_ms,
            &self.function_arn,
            &String::from_utf8_lossy(trace_id.as_bytes()),
        );
        Invocation {
            id,
            deadline_ms,
            trace_id,
            body,
            client_context,
            identity,
        }
    }

    /// `/response` and `/error`: checks the call is allowed for `id` before its body is read.
    pub fn check_answer(&self, id: &str, call: Call) -> Result<(), Refusal> {
        let inner = self.inner();
        self.transition(inner.state, call)?;
        match inner.dispatched(id) {
            Some(_) => Ok(()),
            // Answering an invocation the emulator already gave up on (timed out, or answered)
            // is a 400, as for an id it never issued.
            None => Err(Refusal::UnknownRequestId),
        }
    }

    /// `/response` in streaming mode: hands the caller a [`Streamed`] payload now, before the
    /// invocation ends, and returns the sender the runtime's chunks go to. The invocation ends
    /// with [`Sandbox::answer`] when the stream does (or earlier, on its deadline). A caller
    /// that has gone gets nothing: the chunks are then dropped as they come.
    pub fn start_stream(&self, id: &str, content_type: HeaderValue) -> Result<StreamSink, Refusal> {
        let mut inner = self.inner();
        self.transition(inner.state, Call::Response)?;
        let Some(index) = inner.dispatched(id) else {
            return Err(Refusal::UnknownRequestId);
        };
        let current = &mut inner.flight[index];
        let (data_tx, data) = mpsc::channel(STREAM_BUFFER);
        let (end_tx, end) = oneshot::channel();
        if let Some(caller) = current.caller.take() {
            let stream = Streamed {
                data,
                end,
                content_type,
            };
            let _ = caller.send(Outcome::Response(Payload::Stream(stream)));
        }
        current.stream_end = Some(end_tx);
        let (over_tx, over) = oneshot::channel();
        current._over = Some(over_tx);
        Ok(StreamSink {
            chunks: data_tx,
            over,
        })
    }

    /// Completes the invocation `id` in flight with `outcome`.
    pub fn answer(&self, id: &str, call: Call, outcome: Outcome) -> Result<(), Refusal> {
        let mut inner = self.inner();
        let state = self.transition(inner.state, call)?;
        match inner.dispatched(id) {
            Some(index) => {
                inner.state = state;
                self.finish(&mut inner, index, outcome);
                Ok(())
            }
            None => Err(Refusal::UnknownRequestId),
        }
    }

    /// `/init/error`.
    pub fn init_error(&self, body: Bytes) -> Result<(), Refusal> {
        let mut inner = self.inner();
        inner.state = self.transition(inner.state, Call::InitError)?;
        inner.init_error = Some(body);
        Ok(())
    }

    // ---- the supervisor's side ----

    /// Resolves once no invocation is in flight (those running have ended, however).
    pub async fn settled(&self) {
        loop {
            let changed = self.deadline_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.inner().flight.is_empty() {
                return;
            }
            changed.await;
        }
    }

    /// `/next` calls of the current process get 410 from now on: it was told to stop and did
    /// not, so it hears that nobody will send it an event.
    pub fn refuse_polls(&self) {
        self.inner().polls_refused = true;
        self.work.notify_waiters();
    }

    /// A new function process is about to start: its init phase begins (before its first
    /// line of output).
    pub fn runtime_starting(&self) {
        let phase = if self.inner().retry_init {
            Phase::Invoke
        } else {
            Phase::Init
        };
        self.emit(&Lifecycle::InitStart { phase });
    }

    /// A new function process `pid` started.
    pub fn runtime_started(&self, pid: Option<u32>) {
        let mut inner = self.inner();
        inner.state = RuntimeState::Started;
        inner.process += 1;
        inner.pid = pid;
        inner.started = Instant::now();
        inner.init_duration = None;
        inner.init_error = None;
        inner.polls_refused = false;
        inner.initialized = false;
        inner.suppressed = std::mem::take(&mut inner.retry_init);
        if inner.suppressed {
            // The retried init is part of the invocation waiting for it: its timeout runs
            // from here and covers the init.
            let deadline = tokio::time::Instant::now() + self.timeout;
            for current in inner.flight.iter_mut().filter(|c| !c.dispatched) {
                current.started = Instant::now();
                current.deadline = deadline;
            }
            self.deadline_changed.notify_waiters();
        }
        drop(inner);
        self.extensions.runtime_replaced();
        self.work.notify_waiters();
    }

    /// Resolves when the current process's init passes [`Sandbox::init_limit`] (classic Lambda
    /// only, and not for a suppressed init, which its invocation's timeout bounds).
    pub async fn init_expired(&self) {
        let watched = {
            let inner = self.inner();
            (!inner.suppressed && !self.is_concurrent()).then_some((inner.started, inner.process))
        };
        if let Some((started, process)) = watched {
            tokio::time::sleep_until(tokio::time::Instant::from_std(started + self.init_limit))
                .await;
            if self.init_unfinished(process) {
                return;
            }
        }
        std::future::pending::<()>().await;
    }

    /// Whether process `process` is still the current one and has not finished its init.
    fn init_unfinished(&self, process: u64) -> bool {
        let inner = self.inner();
        inner.process == process && !inner.initialized && inner.flight.iter().all(|c| !c.dispatched)
    }

    /// The init passed its limit: it is reported failed (`Status: timeout`), the process is
    /// abandoned (the supervisor kills it) and the next init, retried with the first
    /// invocation, is a suppressed one. Nobody waiting is failed: they wait for that init.
    pub fn init_timed_out(&self) {
        let mut inner = self.inner();
        let message = format!(
            "Init phase timed out after {} ms",
            self.init_limit.as_millis()
        );
        let failure = error_body(error_type::TIMEOUT, &message);
        self.emit(&Lifecycle::InitDone {
            duration: inner.started.elapsed(),
            error: Some(&failure),
            phase: Phase::Init,
        });
        inner.pid = None;
        inner.process += 1;
        inner.retry_init = true;
        drop(inner);
        self.work.notify_waiters();
    }

    /// The environment is being reset after a crash or a timeout: as on Lambda, the replacement
    /// initializes inside the next invocation, as a retried init does (classic Lambda only;
    /// with several slots the process is replaced at once, as Managed Instances does).
    pub fn init_with_next_invoke(&self) {
        if !self.is_concurrent() {
            self.inner().retry_init = true;
        }
    }

    /// Whether the next init waits for an invocation (Lambda retries a timed-out init "at the
    /// time of the first function invocation").
    pub fn retries_init(&self) -> bool {
        self.inner().retry_init
    }

    /// Resolves once an invocation waits for the function (it has its turn).
    pub async fn wanted(&self) {
        loop {
            let work = self.work.notified();
            tokio::pin!(work);
            work.as_mut().enable();
            if !self.inner().flight.is_empty() {
                return;
            }
            work.await;
        }
    }

    /// The function process ended (`how` says how): every invocation it had taken fails with
    /// `Runtime.ExitError`. A process that never reached `/next` failed to initialize: the
    /// callers already waiting get its `/init/error` body, or a `Runtime.ExitError` naming the
    /// exit, so nobody waits for the timeout. Returns whether init failed.
    pub fn runtime_exited(&self, how: &str) -> bool {
        let mut inner = self.inner();
        let never_ready = matches!(inner.state, RuntimeState::Started | RuntimeState::InitError);
        let init_error = inner.init_error.take();
        let failure = never_ready.then(|| {
            init_error.unwrap_or_else(|| {
                let message = format!("Runtime exited during init with error: {how}");
                error_body(error_type::EXIT, &message).into()
            })
        });
        self.environment_ended(&mut inner, failure, |id| {
            let message = format!("RequestId: {id} Error: Runtime exited with error: {how}");
            error_body(error_type::EXIT, &message).into()
        });
        never_ready
    }

    /// The external extension `name` failed (`how` says how) with `error_type`: it exited
    /// before the shutdown phase (`Extension.Crash`, [`EXTENSION_CRASH`]) or could not be
    /// started (`Extension.LaunchError`). As on Lambda the environment fails: before the init
    /// phase was over, that is an init failure (the callers waiting get it, as for
    /// [`Sandbox::runtime_exited`]); after, the invocations in flight fail with it. The
    /// supervisor then resets the environment (runtime and extensions). Returns whether init
    /// failed.
    pub fn extension_failed(&self, error_type: &str, name: &str, how: &str) -> bool {
        let mut inner = self.inner();
        let in_init = !inner.initialized;
        let failure = in_init.then(|| {
            let message = if error_type == EXTENSION_CRASH {
                format!("Extension {name} exited during init with error: {how}")
            } else {
                format!("Extension {name} could not be started: {how}")
            };
            error_body(error_type, &message).into()
        });
        self.environment_ended(&mut inner, failure, |id| {
            let message =
                format!("RequestId: {id} Error: Extension {name} exited with error: {how}");
            error_body(error_type, &message).into()
        });
        in_init
    }

    /// The function process is gone (or about to be): every invocation it had taken fails
    /// with `failed(id)`; with `init_failure`, the init failed: `InitDone` with it, and every
    /// caller already waiting gets it.
    fn environment_ended(
        &self,
        inner: &mut Inner,
        init_failure: Option<Bytes>,
        failed: impl Fn(&str) -> Bytes,
    ) {
        self.end_post_invoke(inner, true);
        inner.pid = None;
        inner.process += 1;
        while let Some(index) = inner.flight.iter().position(|c| c.dispatched) {
            let body = failed(&inner.flight[index].id);
            self.finish(inner, index, Outcome::Error(body));
            self.end_post_invoke(inner, true);
        }
        if let Some(failure) = init_failure {
            self.emit(&Lifecycle::InitDone {
                duration: inner.started.elapsed(),
                error: Some(&failure),
                phase: phase_of(inner),
            });
            while !inner.flight.is_empty() {
                self.finish(inner, 0, Outcome::Error(failure.clone()));
            }
            inner.fail_before = self.tickets.load(Ordering::SeqCst);
            inner.failed_init = Some(failure);
        }
        self.work.notify_waiters();
    }

    /// The emulator stops: callers waiting for their turn, turns not yet dispatched and every
    /// later caller get 503. The invocations in flight are left to finish, and a `/next` waits
    /// on unanswered: the process ends on SIGTERM while idle, quietly, instead of hearing 410
    /// first ([`Sandbox::refuse_polls`] ends the wait of one that does not).
    pub fn stop(&self) {
        let mut inner = self.inner();
        inner.stopping = true;
        self.turn.close();
        self.budget.close();
        while let Some(index) = inner.flight.iter().position(|c| !c.dispatched) {
            self.finish(&mut inner, index, Outcome::Unavailable(STOPPING));
        }
        drop(inner);
        self.work.notify_waiters();
    }
}

/// The phase of the current process's init: `Invoke` for a suppressed one.
fn phase_of(inner: &Inner) -> Phase {
    if inner.suppressed {
        Phase::Invoke
    } else {
        Phase::Init
    }
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
pub(crate) fn request_id() -> String {
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
fn new_trace_id() -> HeaderValue {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let text = format!(
        "Root=1-{secs:08x}-{:016x}{:08x};Parent={:016x};Sampled=0",
        random_u64(),
        random_u64() as u32,
        random_u64()
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("Root=1-0-0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> Arc<Sandbox> {
        sandbox_timing_out_after(Duration::from_secs(3))
    }

    fn sandbox_timing_out_after(timeout: Duration) -> Arc<Sandbox> {
        Arc::new(Sandbox::new(
            timeout,
            "arn".into(),
            128,
            2,
            crate::protocol::MAX_PAYLOAD,
        ))
    }

    fn event(body: &'static [u8]) -> Event {
        Event {
            body: Bytes::from_static(body),
            trace_id: None,
            client_context: None,
            identity: None,
            held: None,
        }
    }

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
        let sandbox = sandbox();
        sandbox.runtime_started(None);
        let ticket = sandbox.admit().unwrap();
        let caller = tokio::spawn(ticket.invoke(event(b"{}")));
        let invocation = sandbox.next().await.unwrap();
        assert_eq!(&invocation.body[..], b"{}");
        assert!(matches!(
            sandbox.check_answer("other", Call::Response),
            Err(Refusal::UnknownRequestId)
        ));
        let answer = Outcome::Response(Payload::Buffered(Bytes::from_static(b"1")));
        sandbox
            .answer(&invocation.id, Call::Response, answer)
            .unwrap();
        assert!(matches!(
            caller.await.unwrap(),
            Outcome::Response(Payload::Buffered(b)) if &b[..] == b"1"
        ));
        assert!(matches!(
            sandbox.check_answer(&invocation.id, Call::Response),
            Err(Refusal::State(_))
        ));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn tickets_dropped_while_waiting_give_their_place_back() {
        let sandbox = sandbox();
        let first = sandbox.admit().unwrap();
        let second = sandbox.admit().unwrap();
        assert!(matches!(sandbox.admit(), Err(Busy::TooManyWaiting)));
        // Cancelled at its await (the caller hung up): the place is free again.
        let waiting = tokio::spawn(second.invoke(event(b"2")));
        tokio::task::yield_now().await;
        waiting.abort();
        let _ = waiting.await;
        drop(first);
        assert!(sandbox.admit().is_ok());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_deadline_holds_when_the_caller_is_gone() {
        let sandbox = sandbox_timing_out_after(Duration::from_millis(200));
        sandbox.runtime_started(None);
        let caller = tokio::spawn(sandbox.admit().unwrap().invoke(event(b"{}")));
        let invocation = sandbox.next().await.unwrap();
        caller.abort();
        let _ = caller.await;
        tokio::time::timeout(Duration::from_secs(5), sandbox.overdue())
            .await
            .expect("the sandbox times the invocation out without its caller");
        assert!(matches!(
            sandbox.check_answer(&invocation.id, Call::Response),
            Err(Refusal::UnknownRequestId)
        ));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_second_next_takes_over_and_the_event_is_not_lost() {
        let sandbox = sandbox();
        sandbox.runtime_started(None);
        let first = {
            let sandbox = Arc::clone(&sandbox);
            tokio::spawn(async move { sandbox.next().await.map(|i| i.id) })
        };
        tokio::task::yield_now().await;
        let second = {
            let sandbox = Arc::clone(&sandbox);
            tokio::spawn(async move { sandbox.next().await.map(|i| i.id) })
        };
        tokio::task::yield_now().await;
        let caller = tokio::spawn(sandbox.admit().unwrap().invoke(event(b"{}")));
        assert!(matches!(first.await.unwrap(), Err(Refusal::Superseded)));
        let id = second.await.unwrap().unwrap();
        sandbox
            .answer(&id, Call::Error, Outcome::Error(Bytes::from_static(b"e")))
            .unwrap();
        assert!(matches!(caller.await.unwrap(), Outcome::Error(_)));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_crash_fails_the_invocation_in_flight() {
        let sandbox = sandbox();
        let caller = tokio::spawn(sandbox.admit().unwrap().invoke(event(b"")));
        sandbox.next().await.unwrap();
        assert!(!sandbox.runtime_exited("signal: 9"), "it had reached /next");
        let Outcome::Error(body) = caller.await.unwrap() else {
            panic!("no error")
        };
        assert!(String::from_utf8_lossy(&body).contains("Runtime.ExitError"));
    }

    fn concurrent_sandbox(slots: usize, timeout: Duration) -> Arc<Sandbox> {
        Arc::new(
            Sandbox::new(timeout, "arn".into(), 128, 8, crate::protocol::MAX_PAYLOAD)
                .concurrent(slots),
        )
    }

    #[tokio::test(flavor = "current_thread")]
    async fn n_slots_dispatch_n_at_once_and_answers_go_by_id() {
        let sandbox = concurrent_sandbox(2, Duration::from_secs(3));
        sandbox.runtime_started(None);
        let first = tokio::spawn(sandbox.admit().unwrap().invoke(event(b"1")));
        let second = tokio::spawn(sandbox.admit().unwrap().invoke(event(b"2")));
        let third = tokio::spawn(sandbox.admit().unwrap().invoke(event(b"3")));
        let a = sandbox.next().await.unwrap();
        let b = sandbox.next().await.unwrap();
        assert_eq!((&a.body[..], &b.body[..]), (&b"1"[..], &b"2"[..]));
        // Both slots are taken: the third waits for a turn, not for a `/next`.
        let waiting = {
            let sandbox = Arc::clone(&sandbox);
            tokio::spawn(async move { sandbox.next().await })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        let answer = |b: &'static [u8]| Outcome::Response(Payload::Buffered(Bytes::from_static(b)));
        sandbox.answer(&b.id, Call::Response, answer(b"B")).unwrap();
        assert!(matches!(
            sandbox.answer(&b.id, Call::Response, answer(b"again")),
            Err(Refusal::UnknownRequestId)
        ));
        let c = waiting.await.unwrap().unwrap();
        assert_eq!(&c.body[..], b"3");
        sandbox.answer(&a.id, Call::Response, answer(b"A")).unwrap();
        sandbox
            .answer(&c.id, Call::Error, Outcome::Error(Bytes::from_static(b"C")))
            .unwrap();
        assert!(
            matches!(first.await.unwrap(), Outcome::Response(Payload::Buffered(x)) if &x[..] == b"A")
        );
        assert!(
            matches!(second.await.unwrap(), Outcome::Response(Payload::Buffered(x)) if &x[..] == b"B")
        );
        assert!(matches!(third.await.unwrap(), Outcome::Error(x) if &x[..] == b"C"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_poll_more_than_the_slots_is_refused() {
        let sandbox = concurrent_sandbox(2, Duration::from_secs(3));
        sandbox.runtime_started(None);
        let polls: Vec<_> = (0..2)
            .map(|_| {
                let sandbox = Arc::clone(&sandbox);
                tokio::spawn(async move { sandbox.next().await.map(|i| i.id) })
            })
            .collect();
        tokio::task::yield_now().await;
        assert!(matches!(
            sandbox.next().await,
            Err(Refusal::TooManyPolls(2))
        ));
        // A poll that goes away gives its place back.
        polls[0].abort();
        tokio::task::yield_now().await;
        let again = {
            let sandbox = Arc::clone(&sandbox);
            tokio::spawn(async move { sandbox.next().await.map(|i| i.id) })
        };
        tokio::task::yield_now().await;
        assert!(!again.is_finished(), "it waits, it is not refused");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_crash_fails_every_dispatched_invocation_and_keeps_the_queued_one() {
        let sandbox = concurrent_sandbox(3, Duration::from_secs(3));
        sandbox.runtime_started(None);
        let callers: Vec<_> = (0..3)
            .map(|_| tokio::spawn(sandbox.admit().unwrap().invoke(event(b"{}"))))
            .collect();
        let a = sandbox.next().await.unwrap();
        let b = sandbox.next().await.unwrap();
        assert!(!sandbox.runtime_exited("signal: 9"));
        sandbox.runtime_started(None);
        let c = sandbox.next().await.unwrap();
        assert!(
            c.id != a.id && c.id != b.id,
            "the undispatched one waits for the new process"
        );
        for (caller, id) in callers.into_iter().zip([&a.id, &b.id]) {
            let Outcome::Error(body) = caller.await.unwrap() else {
                panic!("no error")
            };
            let text = String::from_utf8_lossy(&body);
            assert!(
                text.contains("Runtime.ExitError") && text.contains(id.as_str()),
                "{text}"
            );
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn under_concurrency_a_timeout_fails_one_and_keeps_the_process() {
        let sandbox = concurrent_sandbox(2, Duration::from_millis(200));
        sandbox.runtime_started(None);
        let slow = tokio::spawn(sandbox.admit().unwrap().invoke(event(b"slow")));
        let a = sandbox.next().await.unwrap();
        let watch = {
            let sandbox = Arc::clone(&sandbox);
            tokio::spawn(async move { sandbox.overdue().await })
        };
        let Outcome::Error(body) = slow.await.unwrap() else {
            panic!("no timeout")
        };
        assert!(String::from_utf8_lossy(&body).contains("Sandbox.Timedout"));
        assert!(!watch.is_finished(), "the process is not replaced");
        assert!(matches!(
            sandbox.check_answer(&a.id, Call::Response),
            Err(Refusal::UnknownRequestId)
        ));
        watch.abort();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_timed_out_init_keeps_its_caller_for_the_retried_init() {
        let mut sandbox = Sandbox::new(
            Duration::from_secs(3),
            "arn".into(),
            128,
            2,
            crate::protocol::MAX_PAYLOAD,
        );
        sandbox.init_limit = Duration::from_millis(50);
        let phases = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&phases);
        sandbox.subscribe(Box::new(move |event| {
            let line = match event {
                Lifecycle::InitStart { phase } => format!("start {}", phase.as_str()),
                Lifecycle::InitDone { phase, error, .. } => {
                    format!("done {} failed={}", phase.as_str(), error.is_some())
                }
                _ => return,
            };
            seen.lock().unwrap().push(line);
        }));
        let sandbox = Arc::new(sandbox);
        sandbox.runtime_starting();
        sandbox.runtime_started(None);
        let caller = tokio::spawn(sandbox.admit().unwrap().invoke(event(b"{}")));
        tokio::time::timeout(Duration::from_secs(5), sandbox.init_expired())
            .await
            .expect("the init passes its limit");
        sandbox.init_timed_out();
        assert!(sandbox.retries_init());
        assert!(
            !caller.is_finished(),
            "the caller waits for the retried init"
        );
        sandbox.runtime_starting();
        sandbox.runtime_started(None);
        assert!(!sandbox.retries_init());
        let invocation = sandbox.next().await.unwrap();
        let answer = Outcome::Response(Payload::Buffered(Bytes::from_static(b"1")));
        sandbox
            .answer(&invocation.id, Call::Response, answer)
            .unwrap();
        assert!(matches!(caller.await.unwrap(), Outcome::Response(_)));
        // Lambda reports the retried init in the invoke phase.
        assert_eq!(
            *phases.lock().unwrap(),
            [
                "start init",
                "done init failed=true",
                "start invoke",
                "done invoke failed=false"
            ]
        );
        // The suppressed init has no limit of its own: its invocation's timeout bounds it.
        let expired = tokio::time::timeout(Duration::from_millis(200), sandbox.init_expired());
        assert!(expired.await.is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn under_concurrency_invoke_extensions_hold_each_invocation_not_the_dispatch() {
        use super::super::extensions::EventType;
        let mut sandbox = Sandbox::new(
            Duration::from_secs(3),
            "arn".into(),
            128,
            8,
            crate::protocol::MAX_PAYLOAD,
        )
        .concurrent(2);
        let ended = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&ended);
        sandbox.subscribe(Box::new(move |event| {
            if let Lifecycle::End { request_id, .. } = event {
                seen.lock().unwrap().push(String::from(*request_id));
            }
        }));
        let sandbox = Arc::new(sandbox);
        sandbox.extensions.expect_external(vec!["ext".into()]);
        sandbox
            .extensions
            .register("ext", &[EventType::Invoke], "e".into())
            .unwrap();
        sandbox.runtime_started(None);
        let extension = {
            let sandbox = Arc::clone(&sandbox);
            tokio::spawn(async move { sandbox.extensions.next("e").await })
        };
        tokio::task::yield_now().await;
        let first = tokio::spawn(sandbox.admit().unwrap().invoke(event(b"1")));
        let second = tokio::spawn(sandbox.admit().unwrap().invoke(event(b"2")));
        // Both dispatch although the extension has not called `next` after the first INVOKE.
        let a = sandbox.next().await.unwrap();
        let b = sandbox.next().await.unwrap();
        assert!(extension.await.unwrap().is_ok());
        let answer = || Outcome::Response(Payload::Buffered(Bytes::from_static(b"ok")));
        sandbox.answer(&a.id, Call::Response, answer()).unwrap();
        sandbox.answer(&b.id, Call::Response, answer()).unwrap();
        assert!(matches!(first.await.unwrap(), Outcome::Response(_)));
        assert!(matches!(second.await.unwrap(), Outcome::Response(_)));
        assert!(ended.lock().unwrap().is_empty(), "held by the extension");
        // Its next `next` lets the first go (and hands it the second's INVOKE).
        sandbox.extensions.next("e").await.unwrap();
        sandbox.end_post_invoke(&mut sandbox.inner(), false);
        assert_eq!(*ended.lock().unwrap(), std::slice::from_ref(&a.id));
        let again = {
            let sandbox = Arc::clone(&sandbox);
            tokio::spawn(async move { sandbox.extensions.next("e").await })
        };
        tokio::task::yield_now().await;
        sandbox.end_post_invoke(&mut sandbox.inner(), false);
        assert_eq!(*ended.lock().unwrap(), [a.id.clone(), b.id.clone()]);
        again.abort();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn stopping_answers_the_waiting_callers() {
        let sandbox = sandbox();
        let first = tokio::spawn(sandbox.admit().unwrap().invoke(event(b"1")));
        let second = tokio::spawn(sandbox.admit().unwrap().invoke(event(b"2")));
        tokio::task::yield_now().await;
        sandbox.stop();
        assert!(matches!(first.await.unwrap(), Outcome::Unavailable(_)));
        assert!(matches!(second.await.unwrap(), Outcome::Unavailable(_)));
        assert!(matches!(sandbox.admit(), Err(Busy::Stopping)));
    }
}
