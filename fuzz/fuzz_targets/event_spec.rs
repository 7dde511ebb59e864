//! Arbitrary text as a perf event list, parsed and resolved against the
//! fake sysfs and tracefs trees of lwprof-events' tests (so PMU terms,
//! formats and tracepoints all resolve). Nothing may panic, and every
//! error is one line of bounded length (user text is cut when echoed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwprof_events::tracefs::{Tracefs, TracepointSource};
use lwprof_events::{parse_events, PmuRegistry};
use std::path::PathBuf;
use std::sync::OnceLock;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/lwprof-events/tests/data")
        .join(name)
}

fn registry() -> &'static PmuRegistry {
    static R: OnceLock<PmuRegistry> = OnceLock::new();
    R.get_or_init(|| PmuRegistry::discover(data("sysfs")).expect("the fake sysfs tree"))
}

fuzz_target!(|input: &[u8]| {
    let spec = String::from_utf8_lossy(input);
    let tracefs = Tracefs::new(data("tracefs"));
    match parse_events(&spec, registry(), Some(&tracefs as &dyn TracepointSource)) {
        Ok(groups) => {
            for g in &groups {
                let _ = g.configs();
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "{msg}");
            // Echoed text is cut to 80 characters per quote; a message has a
            // few quotes and its advice.
            assert!(
                msg.chars().count() < 2000,
                "{} characters",
                msg.chars().count()
            );
        }
    }
});
