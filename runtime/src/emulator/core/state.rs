//! The runtime's side of the Runtime API as a state machine, after AWS's RAPID: which call is
//! allowed when. A call the state does not allow is answered 403 `InvalidStateTransition`.

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
    fn init_error_only_before_the_first_event() {
        assert_eq!(S::Started.after(Call::InitError), Ok(S::InitError));
    }
}
