//! Arbitrary bytes as a perf.data file, imported into a profile (header,
//! attributes, features, compressed records, every record through the one
//! converter, DWARF unwinding of stack copies) and written as text. Nothing
//! may panic, and with overflow checks on no sum may wrap. The reader takes
//! a path for now, so each input goes through a file in memory-backed /dev/shm.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwprof_output::{writer_for, Format, OutputOptions};
use lwprof_profile::import::{import, ImportOptions};
use lwprof_profile::unwind::UnwinderConfig;

fuzz_target!(|input: &[u8]| {
    let dir = std::path::Path::new("/dev/shm");
    let path = dir.join(format!("lwprof-fuzz-{}.data", std::process::id()));
    if std::fs::write(&path, input).is_err() {
        return;
    }
    let options = ImportOptions {
        dwarf: Some(UnwinderConfig {
            symfs: Some(dir.join("lwprof-fuzz-no-such-root")),
            build_id_cache: None,
        }),
        // A small ordering window, so that its bounded sort is fuzzed too.
        queue_budget: Some(4096),
        // Half the inputs build an aggregated profile, as reports do.
        aggregate_samples: input.first().is_some_and(|b| b & 1 == 1),
    };
    if let Ok(imported) = import(&path, options) {
        let mut out = Vec::new();
        if let Some(text) = writer_for(Format::Text) {
            let _ = text.write(&imported.profile, &OutputOptions::default(), &mut out);
        }
        let _ = imported.damage.map(|d| d.to_string());
    }
});
