//! The runtime's side of the Runtime API as a state machine, after AWS's RAPID: which call is
//! allowed when. A call the state does not allow is answered 403 `InvalidStateTransition`.
//!
//! Classic Lambda runs one invocation at a time, so the process has one state
//! ([`RuntimeState::after`]). Under Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY` > 1)
//! many invocations are in flight at once: past init the process is [`RuntimeState::Serving`]
//! and whether an answer is allowed is a question about its request id, which the sandbox
//! answers ([`RuntimeState::after_concurrent`]).

use std::fmt;

/// Where the function process is in its life, as the API sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeState {
    /// Started, not yet asked for an event: initializing.
    Started,
    /// Waiting in `/next`.
    Ready,
    /// Holds an event and owes a response or an error.
    Invoking,
    /// Answered its event; the next call is `/next`.
    ResponseSent,
    /// Reported `/init/error`; the process is expected to exit.
    InitError,
    /// Managed Instances: initialized (a `/next` came), serving invocations concurrently.
    Serving,
}

/// A Runtime API call, as far as the state machine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Next,
    Dispatch,
    Response,
    Error,
    InitError,
}

/// A call the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTransition {
    pub from: RuntimeState,
    pub call: Call,
}

impl fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "State transition from {:?} to {:?} failed for runtime. Error: the runtime is {}",
            self.from,
            self.call,
            match self.from {
                RuntimeState::Started => "initializing",
                RuntimeState::Ready => "waiting for an event",
                RuntimeState::Invoking => "handling an event",
                RuntimeState::ResponseSent => "between events",
                RuntimeState::InitError => "failed to initialize",
                RuntimeState::Serving => "serving concurrent invocations",
            }
        )
    }
}

impl RuntimeState {
    /// The state after `call`, or why it is not allowed now.
    pub fn after(self, call: Call) -> Result<Self, InvalidTransition> {
        use RuntimeState::*;
        let next = match (self, call) {
            // A retried long poll (the runtime reconnected) is still a long poll.
            (Started | ResponseSent | Ready, Call::Next) => Ready,
            (Ready, Call::Dispatch) => Invoking,
            (Invoking, Call::Response | Call::Error) => ResponseSent,
            (Started, Call::InitError) => InitError,
            (from, call) => return Err(InvalidTransition { from, call }),
        };
        Ok(next)
    }

    /// [`RuntimeState::after`] under Managed Instances: any number of `/next`, dispatches and
    /// answers once initialized (each answer must name an invocation in flight, which the
    /// sandbox checks); `/init/error` only before the first `/next`.
    pub fn after_concurrent(self, call: Call) -> Result<Self, InvalidTransition> {
        use RuntimeState::*;
        let next = match (self, call) {
            (Started | Serving, Call::Next) => Serving,
            (Serving, Call::Dispatch | Call::Response | Call::Error) => Serving,
            (Started, Call::InitError) => InitError,
            (from, call) => return Err(InvalidTransition { from, call }),
        };
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::{Call, RuntimeState as S};

    #[test]
    fn the_happy_path_cycles() {
        let mut s = S::Started;
        for call in [
            Call::Next,
            Call::Dispatch,
            Call::Response,
            Call::Next,
            Call::Dispatch,
            Call::Error,
            Call::Next,
        ] {
            s = s.after(call).unwrap();
        }
        assert_eq!(s, S::Ready);
    }

    #[test]
    fn out_of_order_calls_are_refused() {
        assert!(S::Started.after(Call::Response).is_err());
        assert!(S::Ready.after(Call::Error).is_err());
        assert!(S::ResponseSent.after(Call::Response).is_err());
        assert!(S::Invoking.after(Call::Next).is_err());
        assert!(S::Ready.after(Call::InitError).is_err());
        assert!(S::InitError.after(Call::Next).is_err());
        let e = S::ResponseSent.after(Call::Response).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("State transition from ResponseSent to Response failed")
        );
    }

    #[test]
    fn concurrent_calls_need_init_first_and_no_init_error_after() {
        let s = S::Started.after_concurrent(Call::Next).unwrap();
        assert_eq!(s, S::Serving);
        for call in [Call::Next, Call::Dispatch, Call::Response, Call::Error] {
            assert_eq!(s.after_concurrent(call), Ok(S::Serving));
        }
        assert!(S::Started.after_concurrent(Call::Response).is_err());
        assert!(S::Serving.after_concurrent(Call::InitError).is_err());
        assert!(S::InitError.after_concurrent(Call::Next).is_err());
        assert_eq!(
            S::Started.after_concurrent(Call::InitError),
            Ok(S::InitError)
        );
    }

    #[test]
    fn init_error_only_before_the_first_event() {
        assert_eq!(S::Started.after(Call::InitError), Ok(S::InitError));
    }
}
