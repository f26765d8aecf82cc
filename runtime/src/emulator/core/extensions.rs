//! The extensions registered with the sandbox, as Lambda's Extensions API sees them: who
//! registered (name, identifier, internal or external), which events each wants (`INVOKE`,
//! `SHUTDOWN`), and the events queued for each until its next `GET /event/next`.
//!
//! Each INVOKE is tracked by request id until every extension it went to has called `next`
//! again, so that under Managed Instances (N invocations in flight) each invocation's
//! post-invoke phase ends on its own ([`Extensions::post_invoke`]).
//!
//! Whether any extension registered decides Lambda's shutdown: SIGTERM and a budget for the
//! runtime when one did, a plain kill when none did ([`Extensions::shutdown_budget`]). No HTTP
//! here: `api::extension` maps these results to AWS's answers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::telemetry::Telemetry;

/// The runtime's shutdown budget when only external extensions registered (Lambda: 300 ms).
pub(crate) const RUNTIME_BUDGET: Duration = Duration::from_millis(300);
/// The runtime's budget when it registered an internal extension (Lambda: 500 ms).
pub(crate) const RUNTIME_BUDGET_INTERNAL: Duration = Duration::from_millis(500);
/// The whole shutdown phase: past it, everything left is killed (Lambda: 2 s).
pub(crate) const SHUTDOWN_LIMIT: Duration = Duration::from_secs(2);

/// An event an extension may register for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Invoke,
    Shutdown,
}

impl EventType {
    /// `INVOKE` or `SHUTDOWN`, as in the register body; anything else is `None`.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "INVOKE" => Some(Self::Invoke),
            "SHUTDOWN" => Some(Self::Shutdown),
            _ => None,
        }
    }
}

/// Why a register or next call is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ExtensionRefusal {
    /// 403: registration is only open during the init phase.
    RegistrationClosed,
    /// 409-like (Lambda answers 403): the name is already registered.
    AlreadyRegistered,
    /// 403: an internal extension asked for `SHUTDOWN` (Lambda's reference does not allow it).
    ShutdownForInternal,
    /// 403: the identifier header names no registered extension.
    UnknownIdentifier,
}

struct Agent {
    id: String,
    name: String,
    external: bool,
    invoke: bool,
    shutdown: bool,
    /// Event bodies (JSON) not yet handed out by `next`, each with the request id of an
    /// INVOKE event.
    queue: VecDeque<(Option<String>, Vec<u8>)>,
    /// Request ids of the INVOKE events its last `next` handed out: it is done with them at
    /// its next call (Lambda's post-invoke phase, per invocation).
    delivered: Vec<String>,
    /// Number of `next` calls so far.
    polls: u64,
    /// In `next`, waiting for an event: ready for the next invocation.
    waiting: bool,
}

#[derive(Default)]
struct Registry {
    agents: Vec<Agent>,
    /// Names of the external extensions the emulator started (their files' names).
    external_names: Vec<String>,
    closed: bool,
    /// When an extension last called `next`: once all wait, the moment they became ready.
    last_next: Option<Instant>,
    /// Per invocation (request id) whose INVOKE went out: the extensions not yet done with it
    /// and when the last one that is called `next` ([`Extensions::post_invoke`]).
    open: HashMap<String, Open>,
}

/// An invocation some INVOKE extensions still hold (queued, or handed out and not yet
/// followed by another `next`).
struct Open {
    holders: usize,
    /// When the last holder so far let go (its `next` call).
    last: Option<Instant>,
}

/// Where an invocation's post-invoke phase is ([`Extensions::post_invoke`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PostInvoke {
    /// An extension registered for INVOKE has not called `next` since it got this one's event.
    Held,
    /// Every one has (at the instant given; `None` when no extension got the event).
    Over(Option<Instant>),
}

impl Registry {
    /// `agent` is done with the invocations `ids` (it called `next` again, or it is gone).
    fn release(open: &mut HashMap<String, Open>, ids: impl IntoIterator<Item = String>) {
        let now = Instant::now();
        for id in ids {
            if let Some(entry) = open.get_mut(&id) {
                entry.holders = entry.holders.saturating_sub(1);
                entry.last = Some(now);
            }
        }
    }

    /// Removes the agents `keep` rejects; what they held is released.
    fn remove_agents(&mut self, keep: impl Fn(&Agent) -> bool) {
        let (kept, gone): (Vec<Agent>, Vec<Agent>) = std::mem::take(&mut self.agents)
            .into_iter()
            .partition(|a| keep(a));
        self.agents = kept;
        for agent in gone {
            let held = agent
                .delivered
                .into_iter()
                .chain(agent.queue.into_iter().filter_map(|(id, _)| id));
            Self::release(&mut self.open, held);
        }
    }
}

/// Every extension of one sandbox.
#[derive(Default)]
pub(crate) struct Extensions {
    registry: Mutex<Registry>,
    /// Wakes `next` calls: an event was queued.
    queued: Notify,
    /// Wakes the runtime's `/next`: an extension registered or called `next`
    /// ([`Extensions::ready`] may have changed).
    pub(crate) changed: Notify,
    /// The Telemetry API's subscriptions (each an extension's).
    pub(crate) telemetry: Arc<Telemetry>,
}

impl Extensions {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The names of the external extensions the emulator starts; an extension registering
    /// under another name is internal (in the runtime's process), as RAPID decides.
    pub(crate) fn expect_external(&self, names: Vec<String>) {
        self.registry().external_names = names;
    }

    /// `POST /extension/register`: returns the new identifier.
    pub(crate) fn register(
        &self,
        name: &str,
        events: &[EventType],
        id: String,
    ) -> Result<String, ExtensionRefusal> {
        let mut registry = self.registry();
        if registry.closed {
            return Err(ExtensionRefusal::RegistrationClosed);
        }
        if registry.agents.iter().any(|a| a.name == name) {
            return Err(ExtensionRefusal::AlreadyRegistered);
        }
        let external = registry.external_names.iter().any(|n| n == name);
        let shutdown = events.contains(&EventType::Shutdown);
        if shutdown && !external {
            return Err(ExtensionRefusal::ShutdownForInternal);
        }
        registry.agents.push(Agent {
            id: id.clone(),
            name: name.to_owned(),
            external,
            invoke: events.contains(&EventType::Invoke),
            shutdown,
            queue: VecDeque::new(),
            delivered: Vec::new(),
            polls: 0,
            waiting: false,
        });
        drop(registry);
        self.changed.notify_waiters();
        Ok(id)
    }

    /// A new runtime process starts: the internal extensions of an old one are gone with it,
    /// and registration opens for its init. The external ones, started just before it for the
    /// same environment, stay ([`Extensions::reset`] ended the old environment's).
    pub(crate) fn runtime_replaced(&self) {
        let mut registry = self.registry();
        registry.remove_agents(|a| a.external);
        registry.closed = false;
        self.telemetry
            .retain(|id| registry.agents.iter().any(|a| a.id == id));
        drop(registry);
        self.changed.notify_waiters();
    }

    /// The execution environment is reset (its function process was replaced, an extension
    /// crashed, an init failed): as on Lambda, every extension goes with it, the external ones
    /// are started again and must register again. A `next` still waiting hears 403.
    pub(crate) fn reset(&self) {
        let mut registry = self.registry();
        registry.remove_agents(|_| false);
        registry.external_names.clear();
        registry.closed = false;
        registry.last_next = None;
        self.telemetry.retain(|_| false);
        drop(registry);
        self.queued.notify_waiters();
        self.changed.notify_waiters();
    }

    /// The names of the external extensions registered for `SHUTDOWN`: the ones the shutdown
    /// phase waits for (AWS's RAPID kills the others at once).
    pub(crate) fn shutdown_subscribers(&self) -> Vec<String> {
        self.registry()
            .agents
            .iter()
            .filter(|a| a.external && a.shutdown)
            .map(|a| a.name.clone())
            .collect()
    }

    /// Registration closes when the runtime takes its first event (the init phase is over).
    pub(crate) fn close_registration(&self) {
        self.registry().closed = true;
    }

    /// The name of the extension `id`, if registered.
    pub(crate) fn name_of(&self, id: &str) -> Option<String> {
        let registry = self.registry();
        registry
            .agents
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.clone())
    }

    /// `GET /extension/event/next` of extension `id`: its next event body (JSON), waiting for
    /// one.
    pub(crate) async fn next(&self, id: &str) -> Result<Vec<u8>, ExtensionRefusal> {
        {
            let mut registry = self.registry();
            let registry = &mut *registry;
            let agent = registry
                .agents
                .iter_mut()
                .find(|a| a.id == id)
                .ok_or(ExtensionRefusal::UnknownIdentifier)?;
            agent.waiting = true;
            // Calling `next` again ends its part in the invocations it was handed last.
            Registry::release(&mut registry.open, agent.delivered.drain(..));
            registry.last_next = Some(Instant::now());
        }
        self.changed.notify_waiters();
        loop {
            let queued = self.queued.notified();
            tokio::pin!(queued);
            queued.as_mut().enable();
            {
                let mut registry = self.registry();
                let agent = registry
                    .agents
                    .iter_mut()
                    .find(|a| a.id == id)
                    .ok_or(ExtensionRefusal::UnknownIdentifier)?;
                if let Some((request_id, event)) = agent.queue.pop_front() {
                    agent.polls += 1;
                    agent.waiting = false;
                    agent.delivered.extend(request_id);
                    return Ok(event);
                }
            }
            queued.await;
        }
    }

    /// Whether an event may go to the runtime: every external extension the emulator started
    /// has registered, and every registered extension waits in `next` (Lambda's init phase
    /// ends so, and on classic Lambda an invocation's post-invoke phase lasts until its INVOKE
    /// extensions call `next` again). Under Managed Instances only the init waits for it; each
    /// invocation's post-invoke phase is then [`Extensions::post_invoke`].
    pub(crate) fn ready(&self) -> bool {
        let registry = self.registry();
        registry
            .external_names
            .iter()
            .all(|name| registry.agents.iter().any(|a| &a.name == name))
            && registry.agents.iter().all(|a| a.waiting)
    }

    /// When an extension last called `next` (the end of a post-invoke phase, once
    /// [`Extensions::ready`]).
    pub(crate) fn last_next(&self) -> Option<Instant> {
        self.registry().last_next
    }

    /// Where the post-invoke phase of invocation `request_id` is. Once it is over, the
    /// invocation is forgotten here (a second question answers `Over(None)`).
    ///
    /// Lambda's rule, "an invocation ends when the runtime has answered and every extension
    /// registered for INVOKE has called `next` again", applied per invocation: an extension is
    /// done with an invocation at the first `next` it calls after the one that handed it that
    /// invocation's event. Under Managed Instances an extension may hold several at once.
    pub(crate) fn post_invoke(&self, request_id: &str) -> PostInvoke {
        let mut registry = self.registry();
        match registry.open.get(request_id) {
            Some(open) if open.holders > 0 => PostInvoke::Held,
            Some(open) => {
                let last = open.last;
                registry.open.remove(request_id);
                PostInvoke::Over(last)
            }
            None => PostInvoke::Over(None),
        }
    }

    /// Invocation `request_id` ended without its post-invoke phase (its process is gone):
    /// nothing waits for it any more.
    pub(crate) fn forget(&self, request_id: &str) {
        self.registry().open.remove(request_id);
    }

    /// Queues `event` (JSON) for every extension registered for `event_type`; an INVOKE
    /// carries its `request_id`.
    fn send(&self, event_type: EventType, event: &[u8], request_id: Option<&str>) -> usize {
        let mut registry = self.registry();
        let mut sent = 0;
        for agent in &mut registry.agents {
            let wants = match event_type {
                EventType::Invoke => agent.invoke,
                EventType::Shutdown => agent.shutdown,
            };
            if wants {
                agent.waiting = false;
                agent
                    .queue
                    .push_back((request_id.map(str::to_owned), event.to_vec()));
                sent += 1;
            }
        }
        if let Some(id) = request_id.filter(|_| sent > 0) {
            registry.open.insert(
                id.to_owned(),
                Open {
                    holders: sent,
                    last: None,
                },
            );
        }
        drop(registry);
        self.queued.notify_waiters();
        sent
    }

    /// An invocation was dispatched: the INVOKE event to every extension registered for it.
    pub(crate) fn invoke(&self, request_id: &str, deadline_ms: u64, arn: &str, trace_id: &str) {
        let event = serde_json::json!({
            "eventType": "INVOKE",
            "deadlineMs": deadline_ms,
            "requestId": request_id,
            "invokedFunctionArn": arn,
            "tracing": {"type": "X-Amzn-Trace-Id", "value": trace_id},
        });
        self.send(
            EventType::Invoke,
            event.to_string().as_bytes(),
            Some(request_id),
        );
    }

    /// The shutdown phase starts: the SHUTDOWN event (`reason`: `spindown`, `timeout` or
    /// `failure`) to every extension registered for it; returns how many.
    pub(crate) fn shutdown(&self, reason: &str, deadline_ms: u64) -> usize {
        // What telemetry waits goes out now, while the extensions still listen.
        self.telemetry.flush();
        let event = serde_json::json!({
            "eventType": "SHUTDOWN",
            "shutdownReason": reason,
            "deadlineMs": deadline_ms,
        });
        self.send(EventType::Shutdown, event.to_string().as_bytes(), None)
    }

    /// The runtime's budget at shutdown: `None` when no extension registered (Lambda then
    /// kills the environment without a signal), 500 ms when an internal one did, else 300 ms.
    pub(crate) fn shutdown_budget(&self) -> Option<Duration> {
        let registry = self.registry();
        if registry.agents.is_empty() {
            None
        } else if registry.agents.iter().any(|a| !a.external) {
            Some(RUNTIME_BUDGET_INTERNAL)
        } else {
            Some(RUNTIME_BUDGET)
        }
    }

    /// How many `next` calls extension `name` made (tests and REPORT).
    #[cfg(test)]
    fn polls_of(&self, name: &str) -> u64 {
        let registry = self.registry();
        registry
            .agents
            .iter()
            .find(|a| a.name == name)
            .map_or(0, |a| a.polls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_extension_means_no_signal_and_internal_gets_500_ms() {
        let extensions = Extensions::default();
        assert_eq!(extensions.shutdown_budget(), None);
        extensions.expect_external(vec!["agent".into()]);
        extensions
            .register("agent", &[EventType::Shutdown], "a".into())
            .unwrap();
        assert_eq!(extensions.shutdown_budget(), Some(RUNTIME_BUDGET));
        extensions.register("hook", &[], "b".into()).unwrap();
        assert_eq!(extensions.shutdown_budget(), Some(RUNTIME_BUDGET_INTERNAL));
    }

    #[test]
    fn registration_rules() {
        let extensions = Extensions::default();
        assert_eq!(
            extensions.register("inner", &[EventType::Shutdown], "a".into()),
            Err(ExtensionRefusal::ShutdownForInternal)
        );
        extensions
            .register("inner", &[EventType::Invoke], "a".into())
            .unwrap();
        assert_eq!(
            extensions.register("inner", &[], "b".into()),
            Err(ExtensionRefusal::AlreadyRegistered)
        );
        extensions.close_registration();
        assert_eq!(
            extensions.register("late", &[], "c".into()),
            Err(ExtensionRefusal::RegistrationClosed)
        );
        // A replaced runtime registers its internal extension again.
        extensions.runtime_replaced();
        assert_eq!(extensions.name_of("a"), None);
        extensions.register("inner", &[], "d".into()).unwrap();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn ready_when_every_extension_waits_in_next() {
        let extensions = std::sync::Arc::new(Extensions::default());
        assert!(extensions.ready(), "no extension: nothing to wait for");
        extensions.expect_external(vec!["ext".into()]);
        assert!(!extensions.ready(), "the external one has not registered");
        extensions
            .register("ext", &[EventType::Invoke], "e".into())
            .unwrap();
        assert!(!extensions.ready(), "registered, not yet in next");
        let waiting = {
            let extensions = std::sync::Arc::clone(&extensions);
            tokio::spawn(async move { extensions.next("e").await })
        };
        tokio::task::yield_now().await;
        assert!(extensions.ready());
        extensions.invoke("r1", 1, "arn", "t");
        assert!(
            !extensions.ready(),
            "busy with its INVOKE until it calls next again"
        );
        assert!(waiting.await.unwrap().is_ok());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn events_reach_only_their_subscribers_in_order() {
        let extensions = Extensions::default();
        extensions.expect_external(vec!["ext".into()]);
        extensions
            .register("ext", &[EventType::Invoke, EventType::Shutdown], "e".into())
            .unwrap();
        extensions.register("hook", &[], "h".into()).unwrap();
        extensions.invoke("r1", 5, "arn", "Root=1");
        assert_eq!(extensions.shutdown("spindown", 9), 1);
        let first: serde_json::Value =
            serde_json::from_slice(&extensions.next("e").await.unwrap()).unwrap();
        assert_eq!(first["eventType"], "INVOKE");
        assert_eq!(first["requestId"], "r1");
        assert_eq!(first["tracing"]["value"], "Root=1");
        let second: serde_json::Value =
            serde_json::from_slice(&extensions.next("e").await.unwrap()).unwrap();
        assert_eq!(second["eventType"], "SHUTDOWN");
        assert_eq!(second["shutdownReason"], "spindown");
        assert_eq!(extensions.polls_of("ext"), 2);
        assert_eq!(
            extensions.next("nobody").await,
            Err(ExtensionRefusal::UnknownIdentifier)
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn each_invocation_is_held_until_its_extension_calls_next_after_its_event() {
        let extensions = Extensions::default();
        extensions.expect_external(vec!["ext".into()]);
        extensions
            .register("ext", &[EventType::Invoke], "e".into())
            .unwrap();
        extensions.register("quiet", &[], "q".into()).unwrap();
        // Two invocations in flight at once (Managed Instances): both INVOKEs queued.
        extensions.invoke("r1", 1, "arn", "t");
        extensions.invoke("r2", 1, "arn", "t");
        assert_eq!(extensions.post_invoke("r1"), PostInvoke::Held, "queued");
        assert!(extensions.next("e").await.is_ok(), "r1 handed out");
        assert_eq!(
            extensions.post_invoke("r1"),
            PostInvoke::Held,
            "being handled"
        );
        // The next `next` lets r1 go (and hands out r2), whatever r2 is doing.
        assert!(extensions.next("e").await.is_ok(), "r2 handed out");
        assert!(matches!(
            extensions.post_invoke("r1"),
            PostInvoke::Over(Some(_))
        ));
        assert_eq!(extensions.post_invoke("r2"), PostInvoke::Held);
        // An extension that goes (the environment is reset) holds nothing any more.
        extensions.reset();
        assert!(matches!(
            extensions.post_invoke("r2"),
            PostInvoke::Over(Some(_))
        ));
        // No INVOKE extension: nothing to wait for.
        assert_eq!(extensions.post_invoke("r3"), PostInvoke::Over(None));
    }
}
