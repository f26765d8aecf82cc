//! Bounded memory under large uploads (issue 9): an event is admitted to the queue and to the
//! buffer budget before its body is read, so 100 concurrent 6 MiB uploads cannot make local
//! mode hold 100 bodies.

use std::time::Duration;

use faas_checks::fixture::{Function, example};
use faas_checks::http::{self, Bytes};
use faas_runtime::emulator::peak_memory_kib;

const INVOKE: &str = "/2015-03-31/functions/function/invocations";
const MAX_PAYLOAD: usize = 6 * 1024 * 1024;

/// The bound: the 64 MiB budget, the event in flight and its echoed response, and slack for
/// buffers and the allocator. Before the budget it was 554-735 MiB.
const PEAK_RSS_BOUND_MIB: u64 = 192;

#[test]
fn a_hundred_concurrent_6_mib_uploads_keep_local_mode_under_the_bound() {
    let f = Function::local(&example("echo"), &[]);
    let mut event = vec![b'a'; MAX_PAYLOAD];
    event[0] = b'"';
    event[MAX_PAYLOAD - 1] = b'"';
    let event = Bytes::from(event);
    let before = peak_memory_kib(f.pid()).expect("local mode's VmHWM");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let callers: Vec<_> = (0..100)
            .map(|_| {
                let event = event.clone();
                let addr = &f.invoke_addr;
                s.spawn(move || {
                    let r = http::request_shared(
                        addr,
                        "POST",
                        INVOKE,
                        &[],
                        event.clone(),
                        Duration::from_secs(120),
                    )
                    .unwrap_or_else(|e| panic!("{e}"));
                    if r.status == 200 {
                        assert_eq!(r.body.len(), MAX_PAYLOAD, "{}", r.body_excerpt());
                        assert_eq!(
                            r.header("x-amz-function-error"),
                            None,
                            "{}",
                            r.body_excerpt()
                        );
                    }
                    r.status
                })
            })
            .collect();
        callers.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let peak = peak_memory_kib(f.pid()).expect("local mode's VmHWM");
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    println!(
        "local mode peak RSS: {} MiB before, {} MiB after 100 concurrent 6 MiB uploads ({ok} echoed, {refused} got 429)",
        before / 1024,
        peak / 1024
    );
    assert_eq!(ok + refused, 100, "only 200 and 429: {statuses:?}");
    assert!(ok >= 1, "{statuses:?}");
    assert!(
        peak / 1024 < PEAK_RSS_BOUND_MIB,
        "peak RSS {} MiB is over {PEAK_RSS_BOUND_MIB} MiB",
        peak / 1024
    );
}
