//! The Telemetry API's side of the core: who subscribed (an extension, the record types it
//! wants, its buffering), the records each subscription has not yet been sent, and the records
//! themselves in Lambda's schema (2022-12-13), made from the sandbox's lifecycle events and the
//! function's and extensions' output lines.
//!
//! Nothing here does I/O or blocks: a record is queued under a lock and a [`Condvar`] wakes the
//! subscription's sender (`api::telemetry`), which takes batches with [`Outbox::next_batch`].
//! So an extension that never reads its records cannot slow an invocation down: past its
//! buffer's limits records are dropped and counted, and a `platform.logsDropped` record says so.
//! With no subscription a lifecycle event costs one atomic load.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

#[cfg(test)]
use super::lifecycle::Phase;
use super::lifecycle::{Lifecycle, Millis, Subscriber};

/// `platform` records (the `platform.*` events).
pub(crate) const PLATFORM: u8 = 1;
/// `function` records: lines the function process wrote.
pub(crate) const FUNCTION: u8 = 2;
/// `extension` records: lines the external extensions wrote.
pub(crate) const EXTENSION: u8 = 4;

/// Records of the init phase kept for subscriptions made during it (Lambda delivers a
/// `platform.initStart` to an extension that subscribes after it happened).
const MAX_BACKLOG: usize = 1_000;

/// Lambda's bounds and defaults for a subscription's `buffering`.
pub(crate) mod bounds {
    use std::ops::RangeInclusive;
    /// `maxItems`: default 10,000, from 1,000 to 10,000.
    pub(crate) const MAX_ITEMS: RangeInclusive<u64> = 1_000..=10_000;
    pub(crate) const DEFAULT_MAX_ITEMS: u64 = 10_000;
    /// `maxBytes`: default 262,144, from 262,144 to 1,048,576.
    pub(crate) const MAX_BYTES: RangeInclusive<u64> = 262_144..=1_048_576;
    pub(crate) const DEFAULT_MAX_BYTES: u64 = 262_144;
    /// `timeoutMs`: default 1,000, from 25 to 30,000.
    pub(crate) const TIMEOUT_MS: RangeInclusive<u64> = 25..=30_000;
    pub(crate) const DEFAULT_TIMEOUT_MS: u64 = 1_000;
}

/// How records are batched: a batch goes out when it holds `max_items` records or `max_bytes`
/// bytes, or `timeout` after its first record; the same limits cap what waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Buffering {
    pub max_items: usize,
    pub max_bytes: usize,
    pub timeout: Duration,
}

/// Where batches are posted: an HTTP listener on the sandbox (loopback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Destination {
    /// The address connected to (`sandbox.localdomain` is loopback).
    pub addr: SocketAddr,
    /// The `Host` header: the URI's authority.
    pub host: String,
    /// The request path (`/` when the URI has none).
    pub path: String,
    /// The URI as the extension gave it, for log lines.
    pub uri: String,
}

/// A valid subscribe request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subscription {
    /// [`PLATFORM`], [`FUNCTION`], [`EXTENSION`] or'ed.
    pub types: u8,
    pub buffering: Buffering,
    pub destination: Destination,
}

/// A record's type and its JSON (`{"time":...,"type":...,"record":...}`).
#[derive(Clone)]
struct Record {
    kind: u8,
    json: Arc<str>,
}

/// What one subscription has not yet been sent.
#[derive(Default)]
struct Queue {
    records: VecDeque<Arc<str>>,
    bytes: usize,
    /// When the oldest waiting record came.
    since: Option<Instant>,
    dropped_records: u64,
    dropped_bytes: u64,
    /// Send what waits now (the shutdown phase), whatever the timeout.
    flush: bool,
    /// Replaced or the sandbox is gone: the sender ends once the queue is empty.
    closed: bool,
}

/// One subscription's records on their way: filled by the core, emptied by its sender.
pub(crate) struct Outbox {
    /// The subscribing extension's name.
    pub name: String,
    pub subscription: Subscription,
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl Outbox {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, json: &Arc<str>) {
        let limits = self.subscription.buffering;
        let mut queue = self.queue();
        if queue.closed {
            return;
        }
        if queue.records.len() >= limits.max_items || queue.bytes + json.len() > limits.max_bytes {
            queue.dropped_records += 1;
            queue.dropped_bytes += json.len() as u64;
            return;
        }
        queue.bytes += json.len();
        queue.records.push_back(Arc::clone(json));
        // The sender sleeps without a deadline while nothing waits: the first record starts
        // the batch's timeout, a full buffer ends it.
        let first = queue.since.is_none();
        queue.since.get_or_insert_with(Instant::now);
        let full = queue.records.len() >= limits.max_items || queue.bytes >= limits.max_bytes;
        drop(queue);
        if first || full {
            self.ready.notify_one();
        }
    }

    /// Blocks until a batch is due (its limits reached, its timeout passed, a flush) and
    /// returns it as the JSON array to post, a `platform.logsDropped` record first when
    /// records were dropped since the last batch; `None` once the outbox is closed and empty.
    pub(crate) fn next_batch(&self) -> Option<(String, usize)> {
        let limits = self.subscription.buffering;
        let mut queue = self.queue();
        let platform = self.subscription.types & PLATFORM != 0;
        loop {
            // Drops are told in a `platform.logsDropped` record, to platform subscribers only.
            if queue.records.is_empty() && (queue.dropped_records == 0 || !platform) {
                if queue.closed {
                    return None;
                }
                queue = self.ready.wait(queue).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            let waited = queue.since.map_or(limits.timeout, |since| since.elapsed());
            let due = queue.flush
                || queue.closed
                || waited >= limits.timeout
                || queue.records.len() >= limits.max_items
                || queue.bytes >= limits.max_bytes;
            if due {
                break;
            }
            let left = limits.timeout.saturating_sub(waited);
            queue = self
                .ready
                .wait_timeout(queue, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let mut batch = String::from("[");
        let mut count = 0;
        if queue.dropped_records > 0 && platform {
            let dropped = record(
                "platform.logsDropped",
                &json!({
                    "droppedRecords": queue.dropped_records,
                    "droppedBytes": queue.dropped_bytes,
                    "reason": "the extension's buffer was full: it did not take its records in time",
                }),
            );
            batch.push_str(&dropped);
            count += 1;
        }
        queue.dropped_records = 0;
        queue.dropped_bytes = 0;
        // The `logsDropped` record is over and above the batch's limits.
        let mut taken = 0;
        while let Some(json) = queue.records.pop_front() {
            queue.bytes -= json.len();
            if count > 0 {
                batch.push(',');
            }
            batch.push_str(&json);
            count += 1;
            taken += 1;
            if taken >= limits.max_items || batch.len() >= limits.max_bytes {
                break;
            }
        }
        queue.since = (!queue.records.is_empty()).then(Instant::now);
        queue.flush = !queue.records.is_empty() && queue.flush;
        batch.push(']');
        Some((batch, count))
    }

    /// Sends what waits at once (the shutdown phase starts).
    fn flush(&self) {
        self.queue().flush = true;
        self.ready.notify_one();
    }

    /// No more records: the sender delivers what waits and ends.
    pub(crate) fn close(&self) {
        self.queue().closed = true;
        self.ready.notify_one();
    }
}

#[derive(Default)]
struct Hub {
    /// Each subscription, by the identifier of the extension that made it.
    outboxes: Vec<(String, Arc<Outbox>)>,
    /// Records of the init phase in progress (until the first invocation starts).
    backlog: Option<Vec<Record>>,
    /// The invocation in flight and its trace header, for its `runtimeDone` and `report`.
    tracing: Option<(String, String)>,
    /// When the init phase began.
    init_started: Option<Instant>,
}

/// Every telemetry subscription of one sandbox.
#[derive(Default)]
pub(crate) struct Telemetry {
    hub: Mutex<Hub>,
    /// A record may go somewhere: a subscription exists, or the init phase's backlog is kept.
    active: AtomicBool,
    /// Whether the function's and the extensions' output is captured (external extensions
    /// run, so one may subscribe); otherwise it goes straight to the emulator's.
    capture: AtomicBool,
    /// The threads copying captured output, counted so the emulator can let them finish
    /// before it exits (else a process's last lines could be lost).
    pub(crate) copying: Copying,
}

/// A count of running output-copy threads, with a way to wait until none runs.
#[derive(Default)]
pub(crate) struct Copying {
    running: Mutex<usize>,
    ended: Condvar,
}

impl Copying {
    /// A copy thread starts.
    pub(crate) fn start(&self) {
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }

    /// A copy thread is done (its pipe reached end of file).
    pub(crate) fn end(&self) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        *running = running.saturating_sub(1);
        self.ended.notify_all();
    }

    /// Waits up to `limit` for every copy thread to finish; returns whether they all did.
    pub(crate) fn wait_idle(&self, limit: std::time::Duration) -> bool {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let (running, _) = self
            .ended
            .wait_timeout_while(running, limit, |n| *n > 0)
            .unwrap_or_else(|p| p.into_inner());
        *running == 0
    }
}

impl Telemetry {
    fn hub(&self) -> std::sync::MutexGuard<'_, Hub> {
        self.hub.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Capture the processes' output from now on (external extensions are about to start).
    pub(crate) fn capture_output(&self) {
        self.capture.store(true, Ordering::Relaxed);
    }

    /// Whether output lines are wanted ([`Telemetry::capture_output`]).
    pub(crate) fn captures_output(&self) -> bool {
        self.capture.load(Ordering::Relaxed)
    }

    /// Extension `id` (named `name`) subscribes, replacing its earlier subscription; returns
    /// the outbox its sender empties. The init phase's records so far are queued first.
    pub(crate) fn subscribe(
        &self,
        id: &str,
        name: &str,
        subscription: Subscription,
    ) -> Arc<Outbox> {
        let outbox = Arc::new(Outbox {
            name: name.to_owned(),
            subscription,
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
        });
        let mut hub = self.hub();
        for record in hub.backlog.iter().flatten() {
            if outbox.subscription.types & record.kind != 0 {
                outbox.push(&record.json);
            }
        }
        if let Some(at) = hub.outboxes.iter().position(|(owner, _)| owner == id) {
            let (_, old) = hub.outboxes.swap_remove(at);
            old.close();
        }
        hub.outboxes.push((id.to_owned(), Arc::clone(&outbox)));
        self.active.store(true, Ordering::Relaxed);
        outbox
    }

    /// The subscriptions of extensions no longer registered (a replaced runtime's internal
    /// ones) end.
    pub(crate) fn retain(&self, registered: impl Fn(&str) -> bool) {
        let mut hub = self.hub();
        hub.outboxes.retain(|(id, outbox)| {
            let keep = registered(id);
            if !keep {
                outbox.close();
            }
            keep
        });
    }

    /// The shutdown phase starts: every subscription sends what waits now.
    pub(crate) fn flush(&self) {
        for (_, outbox) in &self.hub().outboxes {
            outbox.flush();
        }
    }

    /// A line of output of the function (`FUNCTION`) or of an extension (`EXTENSION`).
    pub(crate) fn line(&self, kind: u8, line: &str) {
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        let kind_name = if kind == FUNCTION {
            "function"
        } else {
            "extension"
        };
        self.queue(kind, record(kind_name, &Value::from(line)));
    }

    fn platform(&self, name: &str, body: &Value) {
        self.queue(PLATFORM, record(name, body));
    }

    fn queue(&self, kind: u8, json: String) {
        let json: Arc<str> = json.into();
        let mut hub = self.hub();
        for (_, outbox) in &hub.outboxes {
            if outbox.subscription.types & kind != 0 {
                outbox.push(&json);
            }
        }
        if let Some(backlog) = hub.backlog.as_mut() {
            if backlog.len() < MAX_BACKLOG {
                backlog.push(Record { kind, json });
            }
        }
    }

    /// The `TraceContext` of invocation `request_id` (forgotten with `done`).
    fn trace_of(&self, request_id: &str, done: bool) -> Option<Value> {
        let mut hub = self.hub();
        let trace = match &hub.tracing {
            Some((id, trace)) if id == request_id => Some(tracing(trace)),
            _ => None,
        };
        if done && trace.is_some() {
            hub.tracing = None;
        }
        trace
    }

    /// Turns one lifecycle event into its platform records.
    fn on(&self, event: &Lifecycle<'_>) {
        if let Lifecycle::InitStart { .. } = event {
            let mut hub = self.hub();
            hub.backlog = Some(Vec::new());
            hub.init_started = Some(Instant::now());
            drop(hub);
            self.active.store(true, Ordering::Relaxed);
        }
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        match *event {
            Lifecycle::InitStart { phase } => self.platform(
                "platform.initStart",
                &json!({"initializationType": "on-demand", "phase": phase.as_str()}),
            ),
            Lifecycle::InitDone {
                duration,
                error,
                phase,
            } => {
                let status = status(error);
                let mut done = json!({"initializationType": "on-demand", "phase": phase.as_str()});
                add_status(&mut done, &status);
                self.platform("platform.initRuntimeDone", &done);
                let mut report = json!({
                    "initializationType": "on-demand",
                    "phase": phase.as_str(),
                    "metrics": {"durationMs": millis(duration)},
                });
                add_status(&mut report, &status);
                self.platform("platform.initReport", &report);
            }
            Lifecycle::Start {
                request_id,
                trace_id,
            } => {
                let mut hub = self.hub();
                // The init phase is over: its records stay with those who subscribed.
                hub.backlog = None;
                hub.tracing = Some((request_id.to_owned(), trace_id.to_owned()));
                let active = !hub.outboxes.is_empty();
                drop(hub);
                self.active.store(active, Ordering::Relaxed);
                if active {
                    self.platform(
                        "platform.start",
                        &json!({
                            "requestId": request_id,
                            "version": "$LATEST",
                            "tracing": tracing(trace_id),
                        }),
                    );
                }
            }
            Lifecycle::RuntimeDone {
                request_id,
                duration,
                error,
                produced_bytes,
            } => {
                let mut metrics = json!({"durationMs": millis(duration)});
                if let Some(bytes) = produced_bytes {
                    metrics["producedBytes"] = bytes.into();
                }
                let mut done = json!({"requestId": request_id, "metrics": metrics});
                add_status(&mut done, &status(error));
                if let Some(trace) = self.trace_of(request_id, false) {
                    done["tracing"] = trace;
                }
                self.platform("platform.runtimeDone", &done);
            }
            Lifecycle::End {
                request_id,
                figures,
                error,
            } => {
                let trace = self.trace_of(request_id, true);
                let status = status(error);
                let mut metrics = json!({
                    "durationMs": figures.duration.as_f64(),
                    "billedDurationMs": figures.billed_ms,
                    "memorySizeMB": figures.memory_size_mb,
                    "maxMemoryUsedMB": figures.max_memory_mb.unwrap_or(0),
                });
                if let Some(init) = figures.init {
                    metrics["initDurationMs"] = init.as_f64().into();
                }
                let mut report = json!({"requestId": request_id, "metrics": metrics});
                add_status(&mut report, &status);
                if let Some(trace) = trace {
                    report["tracing"] = trace;
                }
                self.platform("platform.report", &report);
            }
        }
    }
}

/// The lifecycle subscriber that feeds `telemetry`'s subscriptions.
pub(crate) fn subscriber(telemetry: Arc<Telemetry>) -> Subscriber {
    Box::new(move |event: &Lifecycle<'_>| telemetry.on(event))
}

/// `{"time": ..., "type": ..., "record": ...}` with the time now.
fn record(kind: &str, body: &Value) -> String {
    json!({
        "time": crate::log::timestamp(SystemTime::now()),
        "type": kind,
        "record": body,
    })
    .to_string()
}

/// A `Status`: `success`, or `error`/`timeout`/`failure` with the error type.
struct Status {
    status: &'static str,
    error_type: Option<String>,
}

/// The status an outcome's error body (AWS's JSON error) stands for.
fn status(error: Option<&[u8]>) -> Status {
    let Some(body) = error else {
        return Status {
            status: "success",
            error_type: None,
        };
    };
    let error_type = super::lifecycle::error_type_of(body);
    let status = match error_type.as_str() {
        crate::protocol::error_type::TIMEOUT => "timeout",
        crate::protocol::error_type::EXIT => "failure",
        _ => "error",
    };
    Status {
        status,
        error_type: Some(error_type),
    }
}

fn add_status(record: &mut Value, status: &Status) {
    record["status"] = status.status.into();
    if let Some(error_type) = &status.error_type {
        record["errorType"] = error_type.as_str().into();
    }
}

/// A `TraceContext`.
fn tracing(trace_id: &str) -> Value {
    json!({"type": "X-Amzn-Trace-Id", "value": trace_id})
}

/// Milliseconds with two decimals, as Lambda's records give them ([`Millis`]).
fn millis(d: Duration) -> f64 {
    Millis(d).as_f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::core::lifecycle::Figures;

    fn subscription(types: u8, max_items: usize, timeout_ms: u64) -> Subscription {
        Subscription {
            types,
            buffering: Buffering {
                max_items,
                max_bytes: 262_144,
                timeout: Duration::from_millis(timeout_ms),
            },
            destination: Destination {
                addr: SocketAddr::from(([127, 0, 0, 1], 9)),
                host: "sandbox.localdomain:9".into(),
                path: "/".into(),
                uri: "http://sandbox.localdomain:9/".into(),
            },
        }
    }

    fn types_of(batch: &str) -> Vec<String> {
        let records: Vec<Value> = serde_json::from_str(batch).unwrap();
        records
            .iter()
            .map(|r| r["type"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn an_invocation_gives_start_runtime_done_report_in_order() {
        let telemetry = Telemetry::default();
        telemetry.on(&Lifecycle::InitStart { phase: Phase::Init });
        let outbox = telemetry.subscribe("e", "ext", subscription(PLATFORM | FUNCTION, 1000, 25));
        telemetry.line(FUNCTION, "init line");
        telemetry.line(EXTENSION, "not subscribed");
        telemetry.on(&Lifecycle::InitDone {
            duration: Duration::from_millis(3),
            error: None,
            phase: Phase::Init,
        });
        telemetry.on(&Lifecycle::Start {
            request_id: "r1",
            trace_id: "Root=1-a",
        });
        let error = br#"{"errorType":"Sandbox.Timedout","errorMessage":"x"}"#;
        telemetry.on(&Lifecycle::RuntimeDone {
            request_id: "r1",
            duration: Duration::from_micros(1_000_000),
            error: Some(error),
            produced_bytes: None,
        });
        telemetry.on(&Lifecycle::End {
            request_id: "r1",
            figures: Figures::new(
                Duration::from_micros(1_234_567),
                128,
                None,
                Some(Duration::from_millis(3)),
            ),
            error: Some(error),
        });
        let (batch, count) = outbox.next_batch().unwrap();
        assert_eq!(count, 7);
        assert_eq!(
            types_of(&batch),
            [
                "platform.initStart",
                "function",
                "platform.initRuntimeDone",
                "platform.initReport",
                "platform.start",
                "platform.runtimeDone",
                "platform.report"
            ]
        );
        let records: Vec<Value> = serde_json::from_str(&batch).unwrap();
        assert_eq!(records[1]["record"], "init line");
        assert_eq!(records[4]["record"]["tracing"]["value"], "Root=1-a");
        assert_eq!(records[5]["record"]["status"], "timeout");
        assert_eq!(records[5]["record"]["errorType"], "Sandbox.Timedout");
        assert_eq!(records[5]["record"]["metrics"]["durationMs"], 1000.0);
        let report = &records[6]["record"];
        assert_eq!(report["tracing"]["value"], "Root=1-a");
        assert_eq!(report["requestId"], "r1");
        assert_eq!(report["metrics"]["durationMs"], 1234.56);
        assert_eq!(report["metrics"]["billedDurationMs"], 1235);
        assert_eq!(report["metrics"]["initDurationMs"], 3.0);
        assert_eq!(report["metrics"]["memorySizeMB"], 128);
        assert!(records[0]["time"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn the_emulator_can_wait_for_its_output_copies() {
        let copying = Arc::new(Copying::default());
        assert!(copying.wait_idle(Duration::ZERO), "none runs");
        copying.start();
        assert!(
            !copying.wait_idle(Duration::from_millis(20)),
            "one still copies"
        );
        let done = Arc::clone(&copying);
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            done.end();
        });
        assert!(copying.wait_idle(Duration::from_secs(5)));
        thread.join().unwrap();
    }

    #[test]
    fn a_full_buffer_drops_and_says_so() {
        let telemetry = Telemetry::default();
        let outbox = telemetry.subscribe("e", "ext", subscription(PLATFORM | FUNCTION, 2, 30_000));
        for n in 0..5 {
            telemetry.line(FUNCTION, &format!("line {n}"));
        }
        let (batch, count) = outbox.next_batch().unwrap();
        assert_eq!(
            types_of(&batch),
            ["platform.logsDropped", "function", "function"]
        );
        assert_eq!(count, 3);
        let records: Vec<Value> = serde_json::from_str(&batch).unwrap();
        assert_eq!(records[0]["record"]["droppedRecords"], 3);
        assert_eq!(records[2]["record"], "line 1");
    }

    #[test]
    fn without_a_subscription_nothing_is_kept_after_init() {
        let telemetry = Telemetry::default();
        telemetry.on(&Lifecycle::InitStart { phase: Phase::Init });
        telemetry.on(&Lifecycle::Start {
            request_id: "r1",
            trace_id: "t",
        });
        assert!(!telemetry.active.load(Ordering::Relaxed));
        telemetry.line(FUNCTION, "dropped: nobody listens");
        let outbox = telemetry.subscribe("e", "late", subscription(FUNCTION, 1000, 25));
        outbox.close();
        assert!(outbox.next_batch().is_none(), "no backlog after init");
    }

    #[test]
    fn a_waiting_sender_wakes_for_the_first_record() {
        let telemetry = Telemetry::default();
        let outbox = telemetry.subscribe("e", "ext", subscription(FUNCTION, 1000, 25));
        let waiting = {
            let outbox = Arc::clone(&outbox);
            std::thread::spawn(move || outbox.next_batch())
        };
        // The sender is asleep on an empty queue by now.
        std::thread::sleep(Duration::from_millis(100));
        telemetry.line(FUNCTION, "late");
        let (batch, _) = waiting.join().unwrap().unwrap();
        assert_eq!(types_of(&batch), ["function"]);
    }

    #[test]
    fn a_batch_waits_for_its_timeout_unless_flushed() {
        let telemetry = Telemetry::default();
        let outbox = telemetry.subscribe("e", "ext", subscription(FUNCTION, 1000, 30_000));
        telemetry.line(FUNCTION, "one");
        let waiting = {
            let outbox = Arc::clone(&outbox);
            std::thread::spawn(move || outbox.next_batch())
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(!waiting.is_finished(), "sent before its 30 s timeout");
        telemetry.flush();
        let (batch, _) = waiting.join().unwrap().unwrap();
        assert_eq!(types_of(&batch), ["function"]);
    }
}
