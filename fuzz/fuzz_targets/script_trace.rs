//! Arbitrary tracepoint print formats and raw data through `lwprof
//! script`'s evaluator: the first line is the `print fmt`, the rest the
//! sample's raw data, over a fixed set of fields (integers of each size, a
//! char array, a `__data_loc` string). Nothing may panic, and the output
//! stays bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwprof_output::script::{TraceField, TraceFormat};

fn field(
    name: &str,
    offset: u32,
    size: u32,
    signed: bool,
    is_string: bool,
    dynamic: bool,
) -> TraceField {
    TraceField {
        name: name.into(),
        offset,
        size,
        signed,
        is_string,
        dynamic,
    }
}

fuzz_target!(|input: &[u8]| {
    let split = input
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(input.len());
    let print_fmt = String::from_utf8_lossy(&input[..split]).into_owned();
    let raw = input.get(split + 1..).unwrap_or(&[]);
    let format = TraceFormat {
        fields: vec![
            field("a", 8, 1, true, false, false),
            field("b", 9, 2, false, false, false),
            field("c", 12, 4, true, false, false),
            field("d", 16, 8, false, false, false),
            field("comm", 24, 16, false, true, false),
            field("name", 40, 4, false, true, true),
        ],
        print_fmt,
    };
    let out = format.format(raw);
    assert!(out.len() <= 1 << 20, "{} bytes", out.len());
});
