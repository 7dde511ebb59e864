//! Arbitrary bytes through the TRACING_DATA blob parser and the tracepoint
//! format parser. Neither may panic or allocate more than the input holds;
//! a parsed blob must keep exactly the bytes it was given, and every field
//! it reports must have come from them. Seeds: `fuzz/seeds/parse_tracing_data`
//! (perf 6.1's blob, lwprof's, a big-endian one, version 0.5, a format file).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwprof_perfdata::tracing::{parse_format, TracingData};

fuzz_target!(|input: &[u8]| {
    if let Ok(t) = TracingData::parse(input.to_vec()) {
        assert_eq!(t.as_bytes(), input);
        let parts = t.header_page().len()
            + t.header_event().len()
            + t.kallsyms().len()
            + t.printk_formats().len()
            + t.saved_cmdlines().len()
            + t.unread_bytes();
        assert!(parts <= input.len());
        for f in t.formats() {
            assert!(t.format_by_id(f.id).is_some());
            for field in &f.fields {
                let _ = (field.is_dynamic(), field.offset.checked_add(field.size));
            }
            let _ = format!("{f:?}");
        }
    }
    if let Ok(f) = parse_format("fuzz", input) {
        assert!(f
            .fields
            .iter()
            .all(|x| !x.name.is_empty() && !x.type_name.is_empty()));
        let _ = f.event_fields().count();
    }
});
