//! The emulator's core, with no HTTP in it: the sandbox (the function process as the service
//! sees it and the life of every invocation), the runtime's state machine, and the lifecycle
//! events that observers (the `REPORT` lines, the Telemetry API's records) subscribe to. It imports
//! only the wire formats below it.

pub(crate) mod extensions;
pub(crate) mod lifecycle;
mod sandbox;
pub(crate) mod state;
pub(crate) mod telemetry;

pub(crate) use sandbox::{
    Busy, Event, INIT_LIMIT, Outcome, Payload, Refusal, STOPPING, Sandbox, Streamed, Ticket,
    request_id,
};
